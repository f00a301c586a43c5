/*  =========================================================================
    zg_gw_pull - the web forms of pulling tasks (TAKE, FINISH, RETRY)

    A web take names one queue (the guard checks the permission on it, one
    name per request); zgate-cli and native clients take from several.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_pull.h"

//  --------------------------------------------------------------------------
//  The native fields of a web pull

zmsg_t *
zg_gw_pull_fields (const char *verb, const char *name, json_object *request)
{
    assert (verb && name);
    int64_t ack_timeout = 0;
    zmsg_t *fields = zmsg_new ();
    if (streq (verb, "TAKE")) {
        if (zg_gw_answers_int_field (request, "ack_timeout", &ack_timeout) < 0 || ack_timeout < 0)
            zmsg_destroy (&fields);
        else {
            msgpack_sbuffer buffer;
            msgpack_sbuffer_init (&buffer);
            msgpack_packer packer;
            msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
            msgpack_pack_map (&packer, ack_timeout? 2: 1);
            msgpack_pack_str_with_body (&packer, "queues", 6);
            msgpack_pack_array (&packer, 1);
            msgpack_pack_str_with_body (&packer, name, strlen (name));
            if (ack_timeout) {
                msgpack_pack_str_with_body (&packer, "ack-timeout", 11);
                msgpack_pack_int64 (&packer, ack_timeout);
            }
            zmsg_addmem (fields, buffer.data, buffer.size);
            msgpack_sbuffer_destroy (&buffer);
        }
        return fields;
    }
    zmsg_addstr (fields, name);
    zframe_t *output = streq (verb, "FINISH")? zg_gw_answers_data_frame (request): NULL;
    if (output)
        zmsg_append (fields, &output);
    return fields;
}

//  --------------------------------------------------------------------------
//  The OK of a pull

void
zg_gw_pull_answer (zg_gw_answers_t *self, zg_pending_request_t *pending, zmsg_t *msg)
{
    assert (self && pending && msg);
    bool taken = zmsg_size (msg) != 1;
    json_object *answer = zg_gw_answers_object (taken? "taken": "ok", pending->req);
    json_object *body = json_object_new_object ();
    char *id = zmsg_popstr (msg);
    zframe_t *meta = zmsg_pop (msg);
    zframe_t *payload = zmsg_pop (msg);
    json_object *map = NULL;
    char error [128];
    if (meta && payload
    &&  zg_codec_decode_native (zg_gw_answers_codec (self), zframe_data (meta), zframe_size (meta), &map,
                                error, sizeof error) == 0
    &&  json_object_is_type (map, json_type_object)) {
        json_object_object_foreach (map, key, value) {
            json_object_object_add (answer, key, json_object_get (value));
            json_object_object_add (body, key, json_object_get (value));
        }
        zg_gw_answers_add_data (self, answer, zframe_data (payload), zframe_size (payload));
        zg_gw_answers_add_data (self, body, zframe_data (payload), zframe_size (payload));
    }
    if (id) {
        json_object_object_add (answer, "id", json_object_new_string (id));
        json_object_object_add (body, "id", json_object_new_string (id));
    }
    zg_gw_answers_answer (self, pending, &answer, 200, &body);
    json_object_put (map);
    zframe_destroy (&meta);
    zframe_destroy (&payload);
    zstr_free (&id);
}

//  --------------------------------------------------------------------------
//  Self test: the native fields (the answers are tested through zgate in
//  tests/integration/test_seeds_queues.py)

void
zg_gw_pull_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_gw_pull: ");
    //  @selftest
    json_object *request = json_tokener_parse ("{\"ack_timeout\": 500, \"data\": \"6765\"}");
    zmsg_t *fields = zg_gw_pull_fields ("TAKE", "fib", request);
    assert (fields && zmsg_size (fields) == 1);
    zframe_t *options = zmsg_first (fields);
    const char packed [] = "\x82\xa6queues\x91\xa3" "fib\xab" "ack-timeout\xcd\x01\xf4";
    assert (zframe_size (options) == sizeof packed - 1);
    assert (memcmp (zframe_data (options), packed, sizeof packed - 1) == 0);
    zmsg_destroy (&fields);
    fields = zg_gw_pull_fields ("FINISH", "12", request);
    assert (fields && zmsg_size (fields) == 2);
    char *id = zmsg_popstr (fields);
    char *output = zmsg_popstr (fields);
    assert (streq (id, "12") && streq (output, "6765"));
    zstr_free (&id);
    zstr_free (&output);
    zmsg_destroy (&fields);
    fields = zg_gw_pull_fields ("RETRY", "12", request);
    assert (fields && zmsg_size (fields) == 1);
    zmsg_destroy (&fields);
    json_object_put (request);
    request = json_tokener_parse ("{\"ack_timeout\": \"soon\"}");
    assert (zg_gw_pull_fields ("TAKE", "fib", request) == NULL);
    json_object_put (request);
    request = json_tokener_parse ("{}");
    fields = zg_gw_pull_fields ("TAKE", "fib", request);
    assert (fields && zframe_size (zmsg_first (fields)) == 13);
    zmsg_destroy (&fields);
    json_object_put (request);
    //  @end
    printf ("OK\n");
}
