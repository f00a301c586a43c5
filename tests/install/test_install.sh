#!/bin/sh
# Installs the build into a scratch prefix, then builds an example against it the way an embedding program
# would, with nothing but pkg-config, and runs it on the installed shared libraries.
#
#   test_install.sh BUILD_DIR LIBDIR C_COMPILER PACKAGES SOURCE EXPECTED
#
# PACKAGES are the pkg-config names to build SOURCE with, plus ZG_CFLAGS (the build's own warning and
# sanitizer flags); ZG_CMAKE is the cmake that installs. The test passes if every expected file is installed,
# every .pc resolves, every installed header compiles on its own, and the program exits 0, prints EXPECTED
# and loaded zgate's libraries from the prefix. With libzgclient it also checks that the library has no server
# code: no libzgate among its dependencies, no zg_ symbol it does not define.
set -eu
build=$1 libdir=$2 cc=$3 packages=$4 source=$5 expected=$6

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
"${ZG_CMAKE:-cmake}" --install "$build" --prefix "$prefix" > "$prefix/install.log"
for file in bin/zgate bin/zgate-cli etc/zgate/zgate.cfg lib/systemd/system/zgate.service \
            include/zgate.h include/zgclient.h include/zg_gateway.h share/doc/zgate/LICENSE \
            "$libdir/libzgate.so" "$libdir/libzgate.a" "$libdir/libzgate-gateway.so" "$libdir/libzgclient.so"; do
    [ -e "$prefix/$file" ] || { echo "not installed: $file" >&2; exit 1; }
done

export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
pkg-config --exists --print-errors libzgate libzgate-gateway libzgclient
# Each installed header compiles on its own: it includes what it needs, and nothing private
for header in "$prefix"/include/*.h; do
    # shellcheck disable=SC2046,SC2086
    echo "#include \"$(basename "$header")\"" | "$cc" ${ZG_CFLAGS:-} -fsyntax-only -x c - \
        $(pkg-config --cflags libzgate libzgate-gateway libzgclient)
done
# shellcheck disable=SC2086 # PACKAGES, ZG_CFLAGS and the flags are lists of words
flags=$(pkg-config --cflags --libs $packages)
echo "pkg-config --cflags --libs $packages: $flags"
# shellcheck disable=SC2086
"$cc" ${ZG_CFLAGS:-} "$source" $flags -o "$prefix/program"

LD_LIBRARY_PATH="$prefix/$libdir" "$prefix/program" > "$prefix/output"
cat "$prefix/output"
grep -qF "$expected" "$prefix/output" || { echo "expected: $expected" >&2; exit 1; }
LD_LIBRARY_PATH="$prefix/$libdir" ldd "$prefix/program" > "$prefix/ldd"
for package in $packages; do
    grep -q "$prefix/$libdir/$package\.so" "$prefix/ldd" || { echo "$package not loaded from the prefix" >&2; exit 1; }
done

case " $packages " in *" libzgclient "*)
    client="$prefix/$libdir/libzgclient.so"
    if readelf -d "$client" | grep -q 'NEEDED.*libzgate'; then
        echo "libzgclient.so needs libzgate" >&2; exit 1
    fi
    undefined=$(nm -D --undefined-only "$client" | grep ' zg_' || true)
    [ -z "$undefined" ] || { echo "libzgclient.so uses server code: $undefined" >&2; exit 1; }
esac
echo "OK"
