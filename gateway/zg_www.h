/*  =========================================================================
    zg_www - the files the gateway serves over HTTP, compiled in

    Generated at build time from gateway/www/ (the dashboard) and
    clients/js/zgate.js, so zgate needs no files at run time.
    =========================================================================
*/

#ifndef ZG_WWW_H_INCLUDED
#define ZG_WWW_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *path;               //  URL path, e.g. "/index.html"
    const unsigned char *data;      //  Contents
    size_t size;                    //  Bytes in data
} zg_www_file_t;

//  Every file, then an entry with a NULL path
extern const zg_www_file_t zg_www_files [];

#ifdef __cplusplus
}
#endif

#endif
