/*  =========================================================================
    zg_inflight - the bytes of messages sent to one in-process reader that
    it has not let go yet, bounded

    The count is checked and raised in the senders' threads and lowered in
    the reader's: a sender sees at worst a stale, higher count, so it never
    passes the limit by more than one message (per sender's thread).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_inflight.h"
#include <stdatomic.h>

//  The account, shared by its owner and each frame it counted
typedef struct {
    atomic_int_fast64_t held;       //  Bytes of the messages not yet let go
    atomic_int_fast64_t references; //  Its owners, and each such frame
} s_account_t;

//  A counted frame's data follows its header in one allocation
typedef struct {
    s_account_t *account;           //  Where its message's bytes count
    int64_t bytes;                  //  Its message's bytes
    int64_t charged;                //  Of them, charged to the budget
} s_block_t;

struct _zg_inflight_t {
    s_account_t *account;
    bool charged;                   //  Frames are charged to the budget
    uint64_t refused;               //  Messages this owner refused
};

static void
s_account_unref (s_account_t *account)
{
    if (atomic_fetch_sub (&account->references, 1) == 1)
        free (account);
}

//  libzmq lets go of a counted frame: its message no longer counts
static void
s_block_free (void *data, void *hint)
{
    s_block_t *block = (s_block_t *) hint;
    assert (data == block + 1);
    atomic_fetch_sub (&block->account->held, block->bytes);
    zg_budget_release (zg_budget_process (), &block->charged, (size_t) block->charged);
    s_account_unref (block->account);
    free (block);
}

//  --------------------------------------------------------------------------
//  Create an empty account

zg_inflight_t *
zg_inflight_new (void)
{
    zg_inflight_t *self = (zg_inflight_t *) zmalloc (sizeof (zg_inflight_t));
    assert (self);
    self->account = (s_account_t *) zmalloc (sizeof (s_account_t));
    assert (self->account);
    atomic_init (&self->account->held, 0);
    atomic_init (&self->account->references, 1);
    return self;
}

//  --------------------------------------------------------------------------
//  Another owner of the account

zg_inflight_t *
zg_inflight_share (zg_inflight_t *self)
{
    assert (self);
    zg_inflight_t *owner = (zg_inflight_t *) zmalloc (sizeof (zg_inflight_t));
    assert (owner);
    owner->account = self->account;
    owner->charged = self->charged;
    atomic_fetch_add (&self->account->references, 1);
    return owner;
}

//  --------------------------------------------------------------------------
//  Destroy it; its frames keep the account until they are let go

void
zg_inflight_destroy (zg_inflight_t **self_p)
{
    assert (self_p);
    zg_inflight_t *self = *self_p;
    if (self) {
        s_account_unref (self->account);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Charge the frames to the budget too

void
zg_inflight_set_charged (zg_inflight_t *self)
{
    assert (self);
    self->charged = true;
}

//  --------------------------------------------------------------------------
//  Make the counted frame of an admitted message, charged or not

static void
s_self_count (zg_inflight_t *self, bool charged, zmq_msg_t *frame, size_t size, uint64_t bytes)
{
    s_block_t *block = (s_block_t *) malloc (sizeof (s_block_t) + size);
    assert (block);
    block->account = self->account;
    block->bytes = (int64_t) bytes;
    block->charged = 0;
    if (charged)
        zg_budget_charge (zg_budget_process (), &block->charged, bytes);
    atomic_fetch_add (&self->account->held, block->bytes);
    atomic_fetch_add (&self->account->references, 1);
    int rc = zmq_msg_init_data (frame, block + 1, size, s_block_free, block);
    assert (rc == 0);
}

//  --------------------------------------------------------------------------
//  A counted frame of a message, or a refusal past the limit

int
zg_inflight_frame (zg_inflight_t *self, int64_t limit, zmq_msg_t *frame, size_t size, uint64_t bytes)
{
    assert (self && frame);
    assert (bytes >= size && bytes <= INT64_MAX);
    int64_t held = atomic_load (&self->account->held);
    if ((limit > 0 && held > 0 && (int64_t) bytes > limit - held)
    ||  (self->charged && !zg_budget_spare (zg_budget_process (), bytes))) {
        self->refused++;
        errno = EAGAIN;
        return -1;
    }
    s_self_count (self, self->charged, frame, size, bytes);
    return 0;
}

//  --------------------------------------------------------------------------
//  A counted frame of a message the budget admits, or its refusal

int
zg_inflight_admit (zg_inflight_t *self, int64_t limit, zmq_msg_t *frame, size_t size, uint64_t bytes)
{
    assert (self && frame);
    assert (bytes >= size && bytes <= INT64_MAX);
    int64_t held = atomic_load (&self->account->held);
    int refusal = zg_budget_admit (zg_budget_process (), held, held > 0? limit: 0, bytes);
    if (refusal)
        self->refused++;
    else
        s_self_count (self, true, frame, size, bytes);
    return refusal;
}

//  --------------------------------------------------------------------------
//  The reader keeps a plain copy: a counted frame's count ends now

void
zg_inflight_take (zmq_msg_t *frame)
{
    assert (frame);
    zmq_msg_t copy;
    zmq_msg_init_size (&copy, zmq_msg_size (frame));
    memcpy (zmq_msg_data (&copy), zmq_msg_data (frame), zmq_msg_size (frame));
    //  Moving the copy in closes what frame held
    zmq_msg_move (frame, &copy);
    zmq_msg_close (&copy);
}

//  --------------------------------------------------------------------------
//  A frame's block header, bytes held, messages refused

size_t
zg_inflight_overhead (void)
{
    return sizeof (s_block_t);
}

int64_t
zg_inflight_held (zg_inflight_t *self)
{
    assert (self);
    return atomic_load (&self->account->held);
}

uint64_t
zg_inflight_refused (zg_inflight_t *self)
{
    assert (self);
    return self->refused;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_inflight_test (bool verbose)
{
    printf (" * zg_inflight: ");
    //  @selftest
    //  Through a real inproc pipe: the frames count until the reader lets
    //  them go, and past the limit a send is refused
    zsock_t *reader = zsock_new_pull ("inproc://zg_inflight_test");
    zsock_t *writer = zsock_new_push ("inproc://zg_inflight_test");
    assert (reader && writer);
    zg_inflight_t *inflight = zg_inflight_new ();
    zmq_msg_t frame;
    for (int index = 0; index < 3; index++) {
        assert (zg_inflight_frame (inflight, 250, &frame, 7, 100) == 0);
        memcpy (zmq_msg_data (&frame), "DELIVER", 7);
        assert (zg_inflight_held (inflight) == (index == 2? 200: 100));
        assert (zmq_msg_size (&frame) == 7 && memcmp (zmq_msg_data (&frame), "DELIVER", 7) == 0);
        if (index)
            assert (zmq_msg_send (&frame, zsock_resolve (writer), 0) == 7);
        else
            zmq_msg_close (&frame);
    }
    //  The first was let go unsent: two are held
    errno = 0;
    assert (zg_inflight_frame (inflight, 250, &frame, 7, 100) == -1 && errno == EAGAIN);
    assert (zg_inflight_refused (inflight) == 1);
    //  The reader lets one go: one more fits
    char *text = zstr_recv (reader);
    assert (text && streq (text, "DELIVER"));
    zstr_free (&text);
    assert (zg_inflight_held (inflight) == 100);
    assert (zg_inflight_frame (inflight, 250, &frame, 0, 150) == 0);
    assert (zg_inflight_held (inflight) == 250);
    zmq_msg_close (&frame);
    //  With nothing held, a message larger than the limit passes
    text = zstr_recv (reader);
    zstr_free (&text);
    assert (zg_inflight_held (inflight) == 0);
    assert (zg_inflight_frame (inflight, 250, &frame, 1, 1000) == 0);
    *(char *) zmq_msg_data (&frame) = 'x';
    assert (zmq_msg_send (&frame, zsock_resolve (writer), 0) == 1);
    //  Charged, frames count in the budget and give way below its alarm
    zg_budget_t *budget = zg_budget_process ();
    int64_t used = zg_budget_used (budget);
    zg_inflight_t *charged = zg_inflight_new ();
    zg_inflight_set_charged (charged);
    zmq_msg_t other;
    assert (zg_inflight_frame (charged, 0, &other, 1, 500) == 0);
    assert (zg_budget_used (budget) == used + 500);
    zg_budget_set_limit (budget, used + 1000);
    assert (zg_inflight_frame (charged, 0, &frame, 1, 500) == -1);
    zg_budget_set_limit (budget, 0);
    zmq_msg_close (&other);
    assert (zg_budget_used (budget) == used && zg_inflight_held (charged) == 0);
    zg_inflight_destroy (&charged);
    //  The account outlives its owner while a frame bears it
    zg_inflight_destroy (&inflight);
    zg_inflight_destroy (&inflight);
    text = zstr_recv (reader);
    assert (text && streq (text, "x"));
    zstr_free (&text);
    //  Admitted frames: refused (counted) past the limit with 429, past the
    //  budget with 507 and its alarm; owners in several threads share one
    //  account, and the reader's copy ends the count at its read
    zg_inflight_t *publisher = zg_inflight_new ();
    zg_inflight_t *other_thread = zg_inflight_share (publisher);
    zmq_msg_t admitted [3];
    assert (zg_inflight_admit (publisher, 250, &admitted [0], 3, 200) == 0);
    assert (zg_budget_used (budget) == used + 200);
    assert (zg_inflight_admit (other_thread, 250, &admitted [1], 3, 100) == ZG_ERR_TOO_MANY);
    assert (zg_inflight_refused (other_thread) == 1 && zg_inflight_refused (publisher) == 0);
    assert (zg_inflight_held (other_thread) == 200);
    zg_budget_set_limit (budget, used + 250);
    assert (zg_inflight_admit (other_thread, 0, &admitted [1], 3, 100) == ZG_ERR_STORAGE);
    assert (zg_budget_alarm (budget));
    zg_budget_set_limit (budget, 0);
    assert (!zg_budget_alarm (budget));
    assert (zg_inflight_admit (other_thread, 250, &admitted [1], 3, 50) == 0);
    assert (zg_inflight_held (publisher) == 250);
    memcpy (zmq_msg_data (&admitted [0]), "abc", 3);
    assert (zmq_msg_send (&admitted [0], zsock_resolve (writer), 0) == 3);
    zg_inflight_destroy (&publisher);
    zmq_msg_init (&admitted [2]);
    assert (zmq_msg_recv (&admitted [2], zsock_resolve (reader), 0) == 3);
    assert (zg_inflight_held (other_thread) == 250);
    zg_inflight_take (&admitted [2]);
    assert (zg_inflight_held (other_thread) == 50 && zg_budget_used (budget) == used + 50);
    assert (zmq_msg_size (&admitted [2]) == 3 && memcmp (zmq_msg_data (&admitted [2]), "abc", 3) == 0);
    zmq_msg_close (&admitted [2]);
    zmq_msg_close (&admitted [1]);
    assert (zg_inflight_held (other_thread) == 0 && zg_budget_used (budget) == used);
    zg_inflight_destroy (&other_thread);
    zsock_destroy (&writer);
    zsock_destroy (&reader);
    if (verbose)
        printf ("(a frame outlived its account's owner) ");
    //  @end
    printf ("OK\n");
}
