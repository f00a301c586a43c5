/*  =========================================================================
    zg_pullmsg - one message shared by the pull buffers of its subject

    The bytes are copied once out of the topics actor's frame rather than
    shared with it: a small frame libzmq decoded in place points into its
    connection's receive buffer (8 KiB), which a kept reference would pin
    while the budget counted only the message's bytes.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_pullmsg.h"

struct _zg_pullmsg_t {
    size_t holders;                 //  References: buffers and fetches
    int64_t *account;               //  Where its bytes are charged
    size_t size;                    //  Bytes of data
    byte data [];                   //  The message
};

//  --------------------------------------------------------------------------
//  Copy data into a new message held by the caller, charged once

zg_pullmsg_t *
zg_pullmsg_new (const byte *data, size_t size, int64_t *account)
{
    assert (account && (data || size == 0));
    zg_pullmsg_t *self = (zg_pullmsg_t *) malloc (sizeof (zg_pullmsg_t) + size);
    assert (self);
    self->holders = 1;
    self->account = account;
    self->size = size;
    if (size)
        memcpy (self->data, data, size);
    zg_budget_charge (zg_budget_process (), account, size);
    return self;
}

//  --------------------------------------------------------------------------
//  One more holder

zg_pullmsg_t *
zg_pullmsg_link (zg_pullmsg_t *self)
{
    assert (self && self->holders);
    self->holders++;
    return self;
}

//  --------------------------------------------------------------------------
//  Let a reference go; the last one frees the message

void
zg_pullmsg_destroy (zg_pullmsg_t **self_p)
{
    assert (self_p);
    zg_pullmsg_t *self = *self_p;
    if (self) {
        if (--self->holders == 0) {
            zg_budget_release (zg_budget_process (), self->account, self->size);
            free (self);
        }
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  The message's bytes and size, and its holders

const byte *
zg_pullmsg_data (zg_pullmsg_t *self)
{
    assert (self);
    return self->data;
}

size_t
zg_pullmsg_size (zg_pullmsg_t *self)
{
    assert (self);
    return self->size;
}

size_t
zg_pullmsg_holders (zg_pullmsg_t *self)
{
    assert (self);
    return self->holders;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_pullmsg_test (bool verbose)
{
    printf (" * zg_pullmsg: ");
    //  @selftest
    int64_t account = 0;
    int64_t used = zg_budget_used (zg_budget_process ());
    zg_pullmsg_t *message = zg_pullmsg_new ((const byte *) "hello", 5, &account);
    assert (zg_pullmsg_size (message) == 5 && memcmp (zg_pullmsg_data (message), "hello", 5) == 0);
    //  Three holders, charged once
    zg_pullmsg_t *second = zg_pullmsg_link (message);
    zg_pullmsg_t *third = zg_pullmsg_link (message);
    assert (second == message && third == message && zg_pullmsg_holders (message) == 3);
    assert (account == 5 && zg_budget_used (zg_budget_process ()) == used + 5);
    zg_pullmsg_destroy (&second);
    assert (!second && zg_pullmsg_holders (message) == 2);
    zg_pullmsg_destroy (&message);
    assert (account == 5 && zg_pullmsg_holders (third) == 1);
    //  The last holder gives the bytes back
    zg_pullmsg_destroy (&third);
    assert (account == 0 && zg_budget_used (zg_budget_process ()) == used);
    zg_pullmsg_destroy (&third);
    //  An empty message is a message
    message = zg_pullmsg_new (NULL, 0, &account);
    assert (zg_pullmsg_size (message) == 0 && account == 0);
    zg_pullmsg_destroy (&message);
    if (verbose)
        printf ("(shared) ");
    //  @end
    printf ("OK\n");
}
