# zg_add_library (static shared output objects pkgconfig-template): one library built twice from the
# position-independent objects of the OBJECT library `objects` (compiled once): `static` (liboutput.a, what
# zgate's own programs and tests link, so they need no RPATH) and `shared` (liboutput.so.VERSION, for
# embedding programs). Installs both, and the pkg-config file configured from the template.
# The caller links each variant to its own dependencies (e.g. the static gateway library to the static
# libzgate).
function(zg_add_library static shared output objects pkgconfig)
    set_target_properties(${objects} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    #   Linking an OBJECT library directly adds its objects and passes on its usage requirements
    #   (include directories, dependencies); the libraries' own consumers get only the latter
    add_library(${static} STATIC)
    add_library(${shared} SHARED)
    target_link_libraries(${static} PUBLIC ${objects})
    target_link_libraries(${shared} PUBLIC ${objects})
    set_target_properties(${static} ${shared} PROPERTIES OUTPUT_NAME ${output})
    #   0.x: the ABI may change with any minor version; bump SOVERSION with the first stable ABI
    set_target_properties(${shared} PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
    install(TARGETS ${static} ${shared}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

    #   The .pc finds the prefix from its own place (${pcfiledir}), so it stays right when the install
    #   prefix is chosen at install time (cmake --install --prefix) or the tree is moved (DESTDIR)
    file(RELATIVE_PATH ZG_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
    string(REGEX REPLACE "/$" "" ZG_PC_TO_PREFIX "${ZG_PC_TO_PREFIX}")
    get_filename_component(name ${pkgconfig} NAME_WE)
    configure_file(${pkgconfig} ${CMAKE_CURRENT_BINARY_DIR}/${name}.pc @ONLY)
    install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${name}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
