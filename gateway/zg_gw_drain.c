/*  =========================================================================
    zg_gw_drain - the gateway's lame-duck shutdown

    Without it a SIGTERM tore every connection down: WebSocket clients saw
    1006 (no close frame) and an HTTP request waiting for a worker saw a
    reset. Draining closes what is open politely within a bounded time, so
    zgate still exits promptly: the drain timeout plus ZG_GW_DRAIN_GRACE.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_drain.h"

//  Time left after the drain timeout to write the 503 answers, ms
#define ZG_GW_DRAIN_GRACE 500

struct _zg_gw_drain_t {
    zg_gw_answers_t *answers;       //  Sessions and waiting transactions
    int64_t deadline;               //  End of the drain timeout
    bool aborted;                   //  The waiting transactions were answered 503
};

//  --------------------------------------------------------------------------
//  Begin draining

zg_gw_drain_t *
zg_gw_drain_new (zg_gw_answers_t *answers, int64_t timeout, int64_t now)
{
    assert (answers);
    zg_gw_drain_t *self = (zg_gw_drain_t *) zmalloc (sizeof (zg_gw_drain_t));
    assert (self);
    self->answers = answers;
    self->deadline = now + timeout;
    //  New connections are refused by the actor while it drains: lws 4.1's
    //  lws_context_deprecate, which would close the listening socket, reads
    //  the listener after freeing it
    zg_gw_answers_close_sessions (answers, LWS_CLOSE_STATUS_GOINGAWAY, "zgate is shutting down");
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the drain

void
zg_gw_drain_destroy (zg_gw_drain_t **self_p)
{
    assert (self_p);
    zg_gw_drain_t *self = *self_p;
    if (self) {
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Is the drain over?

bool
zg_gw_drain_done (zg_gw_drain_t *self, size_t transactions, int64_t now)
{
    assert (self);
    if (transactions == 0 && zg_gw_answers_sessions (self->answers) == 0)
        return true;
    if (now >= self->deadline && !self->aborted) {
        zg_gw_answers_abort (self->answers, ZG_ERR_UNAVAILABLE, "zgate is shutting down");
        self->aborted = true;
    }
    return now >= self->deadline + ZG_GW_DRAIN_GRACE;
}

//  --------------------------------------------------------------------------
//  Self test of this class: without connections, on the answers alone

void
zg_gw_drain_test (bool verbose)
{
    printf (" * zg_gw_drain: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_queue_bytes = 1024 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    int64_t now = 1000000;

    //  Nothing in flight: done at once
    zg_gw_drain_t *drain = zg_gw_drain_new (answers, 2000, now);
    assert (zg_gw_drain_done (drain, 0, now));
    zg_gw_drain_destroy (&drain);
    assert (drain == NULL);

    //  A transaction waiting for a pattern actor keeps the drain going
    //  until the timeout, then gets 503, then the grace runs out
    zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_POST, "/api/queues/q");
    zg_gw_answers_defer (answers, http, 60000);
    drain = zg_gw_drain_new (answers, 2000, now);
    assert (!zg_gw_drain_done (drain, 1, now + 1999));
    assert (http->status == 0);
    assert (!zg_gw_drain_done (drain, 1, now + 2000));
    assert (http->status == ZG_ERR_UNAVAILABLE);
    assert (!zg_gw_drain_done (drain, 1, now + 2000 + ZG_GW_DRAIN_GRACE - 1));
    assert (zg_gw_drain_done (drain, 1, now + 2000 + ZG_GW_DRAIN_GRACE));
    //  Its answer written, the drain is done before the grace ends
    assert (zg_gw_drain_done (drain, 0, now + 2001));
    zg_gw_drain_destroy (&drain);
    zg_gw_answers_forget (answers, http);
    zg_http_destroy (&http);
    zg_gw_answers_destroy (&answers);
    //  @end
    printf ("OK\n");
}
