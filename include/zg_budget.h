/*  =========================================================================
    zg_budget - one memory budget: bytes that clients grow, counted against
    a limit per account and a global limit, with a high-water alarm

    Every buffer that a client can grow (a queue's tasks, a room's backlog)
    is an account: a byte count its owner keeps, with its own limit. All
    accounts also count against one global budget shared by every actor of
    the process. A request that would take an account past its limit is
    refused with 429; one that would take the process past its budget raises
    the alarm and is refused with 507, and, like RabbitMQ's memory alarm,
    every new piece of work is refused until usage falls to the low-water
    mark (nine tenths of the budget). What was accepted is never dropped:
    bytes a client cannot be refused (a worker's reply) are charged anyway,
    so they raise the alarm instead.
    =========================================================================
*/

#ifndef ZG_BUDGET_H_INCLUDED
#define ZG_BUDGET_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_budget_t zg_budget_t;

//  Create a budget of limit bytes (0: the default, half the machine's memory)
zg_budget_t *
    zg_budget_new (int64_t limit);

//  Destroy a budget
void
    zg_budget_destroy (zg_budget_t **self_p);

//  The process's budget, which the actors charge; zgate sets its limit from
//  server/memory-budget. It lives as long as the process
zg_budget_t *
    zg_budget_process (void);

//  Change the limit (0: the default); the alarm is re-evaluated at once
void
    zg_budget_set_limit (zg_budget_t *self, int64_t limit);

//  The limit in bytes
int64_t
    zg_budget_limit (zg_budget_t *self);

//  Bytes charged now, over all accounts
int64_t
    zg_budget_used (zg_budget_t *self);

//  Whether the alarm is raised (new work is refused)
bool
    zg_budget_alarm (zg_budget_t *self);

//  Whether size more bytes may be charged to an account that holds used bytes
//  and may hold limit (0: no limit of its own). Returns 0, ZG_ERR_TOO_MANY
//  (the account is full) or ZG_ERR_STORAGE (the global alarm); a refusal is
//  counted and changes nothing else
int
    zg_budget_admit (zg_budget_t *self, int64_t used, int64_t limit, size_t size);

//  Whether size more bytes that may be dropped instead (a slow consumer's
//  copy) fit below the low-water mark: such bytes never raise the alarm, so
//  they never refuse anyone's work. Checks only; the caller charges
bool
    zg_budget_spare (zg_budget_t *self, size_t size);

//  Charge size bytes to an account (after zg_budget_admit, or for bytes that
//  cannot be refused); raises the alarm when the budget is crossed
void
    zg_budget_charge (zg_budget_t *self, int64_t *account, size_t size);

//  Give back size bytes charged to an account; the alarm falls at low water
void
    zg_budget_release (zg_budget_t *self, int64_t *account, size_t size);

//  The budget as a JSON object: limit, used, alarm, refusals of each kind
json_object *
    zg_budget_stats (zg_budget_t *self);

//  Self test of this class
void
    zg_budget_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
