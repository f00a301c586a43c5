/*  =========================================================================
    zg_ranswers - how the rooms actor answers the request it is handling

    One place for the actor's answers, their buffer and their counters, so
    that each request handler only decides what to say.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_ranswers.h"

struct _zg_ranswers_t {
    void *handle;                   //  The actor's ROUTER (not owned)
    zg_wire_request_t *request;     //  The request being handled (not owned)
    const zg_rsettings_t *settings; //  The actor's settings (not owned)
    msgpack_sbuffer buffer;         //  Reused for msgpack answers
    msgpack_packer packer;          //  Packs into buffer
    uint64_t errors;                //  ERROR answers
    uint64_t dropped;               //  Answers libzmq refused
    uint64_t denied;                //  Requests refused by the permissions (403)
};

//  --------------------------------------------------------------------------
//  Create the answers

zg_ranswers_t *
zg_ranswers_new (void *handle, zg_wire_request_t *request, const zg_rsettings_t *settings)
{
    assert (handle && request && settings);
    zg_ranswers_t *self = (zg_ranswers_t *) zmalloc (sizeof (zg_ranswers_t));
    assert (self);
    self->handle = handle;
    self->request = request;
    self->settings = settings;
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy them

void
zg_ranswers_destroy (zg_ranswers_t **self_p)
{
    assert (self_p);
    zg_ranswers_t *self = *self_p;
    if (!self)
        return;
    msgpack_sbuffer_destroy (&self->buffer);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Frames [0] routing, [1] command, [2] req; an oversized req is not echoed

zg_wire_part_t
zg_ranswers_req (zg_ranswers_t *self)
{
    assert (self);
    zg_wire_part_t req = zg_wire_frame (self->request, 2);
    if ((int64_t) req.size > self->settings->max_name_size)
        return zg_wire_str ("");
    return req;
}

//  --------------------------------------------------------------------------

void
zg_ranswers_ok (zg_ranswers_t *self, const zg_wire_part_t *results, size_t count)
{
    assert (self);
    zg_wire_part_t req = zg_ranswers_req (self);
    if (req.size == 0)
        return;                     //  The client asked for no answer
    zg_wire_part_t parts [4] = { zg_wire_str ("OK"), req };
    assert (count <= 2);
    for (size_t index = 0; index < count; index++)
        parts [2 + index] = results [index];
    if (zg_wire_send (self->handle, zg_wire_frame (self->request, 0), parts, 2 + count, NULL) == -1)
        self->dropped++;
}

//  --------------------------------------------------------------------------

void
zg_ranswers_ok_number (zg_ranswers_t *self, uint64_t value)
{
    char text [ZG_WIRE_NUMBER_SIZE];
    zg_wire_part_t result = { text, zg_wire_format_uint (value, text) };
    zg_ranswers_ok (self, &result, 1);
}

//  --------------------------------------------------------------------------

msgpack_packer *
zg_ranswers_packer (zg_ranswers_t *self)
{
    assert (self);
    msgpack_sbuffer_clear (&self->buffer);
    return &self->packer;
}

void
zg_ranswers_ok_packed (zg_ranswers_t *self)
{
    assert (self);
    zg_wire_part_t result = { self->buffer.data, self->buffer.size };
    zg_ranswers_ok (self, &result, 1);
}

//  --------------------------------------------------------------------------

int
zg_ranswers_error (zg_ranswers_t *self, int code, const char *format, ...)
{
    assert (self);
    char reason [ZG_WIRE_REASON_SIZE];
    va_list args;
    va_start (args, format);
    zg_wire_vreason (reason, format, args);
    va_end (args);
    if (zg_wire_error (self->handle, zg_wire_frame (self->request, 0), zg_ranswers_req (self), code, reason) == -1)
        self->dropped++;
    self->errors++;
    if (self->settings->verbose)
        zsys_info ("zg_rooms: ERROR %d %s", code, reason);
    return -1;
}

//  --------------------------------------------------------------------------

void
zg_ranswers_refused (zg_ranswers_t *self, int code, const char *reason)
{
    assert (self);
    self->denied += code == ZG_ERR_FORBIDDEN;
    zg_ranswers_error (self, code, "%s", reason);
}

//  --------------------------------------------------------------------------

void
zg_ranswers_stats (zg_ranswers_t *self, json_object *root)
{
    assert (self && root);
    json_object_object_add (root, "errors", json_object_new_uint64 (self->errors));
    json_object_object_add (root, "denied", json_object_new_uint64 (self->denied));
}

uint64_t
zg_ranswers_dropped (zg_ranswers_t *self)
{
    assert (self);
    return self->dropped;
}

//  --------------------------------------------------------------------------
//  Receive one request on router, answer it with answer, and return the
//  frames the dealer got

static zmsg_t *
s_test_round (zsock_t *router, zsock_t *dealer, zg_wire_request_t *request, const char *req,
              void (*answer) (zg_ranswers_t *), zg_ranswers_t *answers)
{
    zstr_sendx (dealer, "PING", req, NULL);
    assert (zg_wire_recv (request, zsock_resolve (router)) == 0);
    answer (answers);
    zg_wire_close (request);
    return zmsg_recv (dealer);
}

static void
s_test_number (zg_ranswers_t *answers)
{
    zg_ranswers_ok_number (answers, 42);
}

static void
s_test_refuse (zg_ranswers_t *answers)
{
    zg_ranswers_refused (answers, ZG_ERR_FORBIDDEN, "no");
}

static void
s_test_packed (zg_ranswers_t *answers)
{
    msgpack_pack_map (zg_ranswers_packer (answers), 0);
    zg_ranswers_ok_packed (answers);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_ranswers_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_ranswers: ");
    //  @selftest
    zg_rsettings_t settings = zg_rsettings_defaults ();
    settings.max_name_size = 4;
    zsock_t *router = zsock_new_router ("inproc://zg-ranswers-test");
    zsock_t *dealer = zsock_new_dealer (">inproc://zg-ranswers-test");
    zsock_set_rcvtimeo (dealer, 2000);
    zg_wire_request_t request;
    zg_ranswers_t *answers = zg_ranswers_new (zsock_resolve (router), &request, &settings);

    //  OK with a number carries the req
    zmsg_t *msg = s_test_round (router, dealer, &request, "r1", s_test_number, answers);
    char *text = zmsg_popstr (msg);
    assert (streq (text, "OK"));
    zstr_free (&text);
    text = zmsg_popstr (msg);
    assert (streq (text, "r1"));
    zstr_free (&text);
    text = zmsg_popstr (msg);
    assert (streq (text, "42"));
    zstr_free (&text);
    zmsg_destroy (&msg);

    //  A packed answer is one frame; a 403 is counted as denied, and an
    //  oversized req is not echoed
    msg = s_test_round (router, dealer, &request, "r2", s_test_packed, answers);
    assert (zmsg_size (msg) == 3 && zframe_size (zmsg_last (msg)) == 1);
    zmsg_destroy (&msg);
    msg = s_test_round (router, dealer, &request, "toolong", s_test_refuse, answers);
    text = zmsg_popstr (msg);
    assert (streq (text, "ERROR"));
    zstr_free (&text);
    text = zmsg_popstr (msg);
    assert (streq (text, ""));
    zstr_free (&text);
    zmsg_destroy (&msg);
    json_object *root = json_object_new_object ();
    zg_ranswers_stats (answers, root);
    assert (json_object_get_uint64 (json_object_object_get (root, "denied")) == 1);
    assert (json_object_get_uint64 (json_object_object_get (root, "errors")) == 1);
    json_object_put (root);
    assert (zg_ranswers_dropped (answers) == 0);

    zg_ranswers_destroy (&answers);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
    //  @end
    printf ("OK\n");
}
