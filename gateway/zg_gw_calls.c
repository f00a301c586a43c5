/*  =========================================================================
    zg_gw_calls - the web forms of the queues' command mode

    A call is teomq's "name/params/data" line (PROTOCOL.md 2.1): the web
    side names the command and its params, and its data becomes the last
    part of the line with the same payload mapping as every task. A scatter
    call gets one reply per worker and then an END; a session sees them as
    they come, an HTTP client in one answer at the END.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_calls.h"

//  --------------------------------------------------------------------------
//  The native CALL line of a web call

zframe_t *
zg_gw_calls_line (const char *command, const char *params, json_object *request)
{
    assert (command);
    if (*command == 0 || *command == '/')
        return NULL;
    zchunk_t *line = zchunk_new (command, strlen (command));
    if (params) {
        zchunk_extend (line, "/", 1);
        zchunk_extend (line, params, strlen (params));
    }
    zframe_t *data = zg_gw_answers_data_frame (request);
    if (data) {
        zchunk_extend (line, "/", 1);
        zchunk_extend (line, zframe_data (data), zframe_size (data));
        zframe_destroy (&data);
    }
    zframe_t *frame = zframe_new (zchunk_data (line), zchunk_size (line));
    zchunk_destroy (&line);
    return frame;
}

//  --------------------------------------------------------------------------
//  One reply of a scatter call

void
zg_gw_calls_scatter_reply (zg_gw_answers_t *self, zg_pending_request_t *pending, zmsg_t *msg)
{
    char *id = zmsg_popstr (msg);
    zframe_t *payload = zmsg_pop (msg);
    json_object *reply = pending->http? json_object_new_object (): zg_gw_answers_object ("reply", pending->req);
    if (!pending->http)
        json_object_object_add (reply, "id", json_object_new_string (id? id: ""));
    zg_gw_answers_add_data (self, reply, payload? zframe_data (payload): NULL, payload? zframe_size (payload): 0);
    if (pending->http) {
        if (!pending->gathered)
            pending->gathered = json_object_new_array ();
        json_object_array_add (pending->gathered, reply);
    }
    else {
        zg_session_t *session = zg_gw_answers_session (self, pending->owner);
        if (session) {
            zg_gw_answers_counters (self)->out [ZG_QUEUES]++;
            zg_gw_answers_send_object (self, session, &reply, true, ZG_QUEUES);
        }
        else
            json_object_put (reply);
    }
    zframe_destroy (&payload);
    zstr_free (&id);
}

//  --------------------------------------------------------------------------
//  The end of a scatter call

void
zg_gw_calls_scatter_end (zg_gw_answers_t *self, zg_pending_request_t *pending, zmsg_t *msg)
{
    char *id = zmsg_popstr (msg);
    char *count = zmsg_popstr (msg);
    int64_t replies = count? strtoll (count, NULL, 10): 0;
    json_object *answer = zg_gw_answers_object ("replies", pending->req);
    json_object_object_add (answer, "id", json_object_new_string (id? id: ""));
    json_object_object_add (answer, "count", json_object_new_int64 (replies));
    json_object *body = json_object_new_object ();
    json_object_object_add (body, "id", json_object_new_string (id? id: ""));
    json_object_object_add (body, "count", json_object_new_int64 (replies));
    json_object_object_add (body, "replies", pending->gathered? pending->gathered: json_object_new_array ());
    pending->gathered = NULL;
    zg_gw_answers_answer (self, pending, &answer, 200, &body);
    zstr_free (&count);
    zstr_free (&id);
}

//  --------------------------------------------------------------------------
//  Self test of this class: lines, and a scatter's answers to an HTTP
//  transaction without a connection

void
zg_gw_calls_test (bool verbose)
{
    printf (" * zg_gw_calls: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    json_object *request = json_tokener_parse ("{\"data\":{\"w\":2}}");
    json_object *no_data = json_tokener_parse ("{}");
    zframe_t *line = zg_gw_calls_line ("resize/png", "640", request);
    assert (line && zframe_streq (line, "resize/png/640/{\"w\":2}"));
    zframe_destroy (&line);
    line = zg_gw_calls_line ("ping", NULL, no_data);
    assert (line && zframe_streq (line, "ping"));
    zframe_destroy (&line);
    assert (zg_gw_calls_line ("", NULL, request) == NULL);
    assert (zg_gw_calls_line ("/x", NULL, request) == NULL);

    zg_gw_settings_t settings = { .max_depth = 8, .max_queue_bytes = 1024 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_POST, "/api/commands/resize");
    zg_gw_answers_defer (answers, http, 1000);
    zg_pending_request_t *pending = zg_gw_answers_pending_new (answers, ZG_PENDING_QUEUE_SEND, http->id, true, NULL);
    pending->scatter = pending->reply = true;
    const char *payloads [] = { "small", "{\"n\":1}", NULL };
    for (int index = 0; payloads [index]; index++) {
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, "7");
        zmsg_addstr (msg, payloads [index]);
        zg_gw_calls_scatter_reply (answers, pending, msg);
        zmsg_destroy (&msg);
        assert (http->status == 0);
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "7");
    zmsg_addstr (msg, "2");
    zg_gw_calls_scatter_end (answers, pending, msg);
    zmsg_destroy (&msg);
    assert (http->status == 200 && pending->gathered == NULL);
    //  The reply body follows the LWS_PRE bytes lws writes headers into
    const char *text = (const char *) http->reply + LWS_PRE;
    assert (streq (text, "{\"id\":\"7\",\"count\":2,\"replies\":[{\"data\":\"small\"},{\"data\":{\"n\":1}}]}\n"));
    zg_gw_answers_pending_done (answers, pending->key);
    zg_gw_answers_forget (answers, http);
    zg_http_destroy (&http);
    zg_gw_answers_destroy (&answers);
    json_object_put (request);
    json_object_put (no_data);
    //  @end
    printf ("OK\n");
}
