/*  =========================================================================
    zg_gw_settings - the gateway's own settings: the keys of the [gateway]
    section that are values (not endpoints, security, listening or bridge
    keys), their bounds and defaults, and the queues actor's bounds that
    the gateway checks web requests against (queues-<key>)

    Private to the gateway actor, which owns a zg_gw_settings_t (defined in
    zg_gw_answers.h, where the bridges read it). Each key is the hyphenated
    name of its field; the defaults are the embedded config/zgate.cfg's,
    and a refused value changes nothing.
    =========================================================================
*/

#ifndef ZG_GW_SETTINGS_H_INCLUDED
#define ZG_GW_SETTINGS_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Fill settings with the defaults (interface a strdup the caller frees)
void
    zg_gw_settings_defaults (zg_gw_settings_t *settings);

//  Set one setting by its key. Returns 0, or -1 with a one-line reason in
//  error (an unknown key, a value out of bounds) and nothing changed
int
    zg_gw_settings_set (zg_gw_settings_t *settings, const char *key, const char *value, char *error,
                        size_t size);

//  Self test of this class
void
    zg_gw_settings_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
