/*  =========================================================================
    zg_qoptions - the queues actor's settings (its config section) and the
    options of its requests (the msgpack maps of SEND, CALL and READY)

    Private to zg_queues. Settings are the hyphenated keys of the [queues]
    config section, each bounded; request options use the same spelling
    (ack-timeout). Parsing checks everything and returns a ZG_ERR_* code
    with a one-line reason, so a refused request changes nothing.
    =========================================================================
*/

#ifndef ZG_QOPTIONS_H_INCLUDED
#define ZG_QOPTIONS_H_INCLUDED

#include <czmq.h>
#include "zg_mpreader.h"
#include "zg_holder.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Longest queue, command or worker name the settings can allow
#define ZG_QOPTIONS_NAME_MAX 255

//  Longest data-dir, NUL included
#define ZG_QSETTINGS_PATH_MAX 1024

//  The settings of the queues actor
typedef struct {
    int64_t verbose;                //  Log worker and dead-letter events
    int64_t sndhwm;                 //  Per-connection send high-water mark
    int64_t rcvhwm;                 //  Per-connection receive high-water mark
    int64_t max_message_size;       //  Largest message, bytes (libzmq enforces)
    int64_t max_task_size;          //  Largest payload or reply, bytes
    int64_t max_name_size;          //  Longest name, worker id or req
    int64_t max_options_size;       //  Largest options frame
    int64_t max_pending;            //  Waiting tasks per queue
    int64_t max_queue_bytes;        //  Bytes of payloads and results per queue
    int64_t max_tasks;              //  Tasks in memory
    int64_t max_queues;             //  Queues plus commands
    int64_t max_queues_per_connection;  //  Of them, made by one holder (zg_holder)
    int64_t max_workers;            //  Logical workers
    int64_t max_subscriptions;      //  Queues plus commands per worker
    int64_t max_prefetch;           //  Largest prefetch
    int64_t max_priority;           //  Highest priority
    int64_t max_deliveries;         //  Deliveries before dead letter
    int64_t heartbeat_interval;     //  Ms between worker heartbeats
    int64_t worker_timeout;         //  Ms of silence that kills a worker
    int64_t ack_timeout;            //  Default ms to answer a delivery
    int64_t max_ack_timeout;        //  Largest ack-timeout option
    int64_t reply_timeout;          //  Default ms a producer waits for a reply
    int64_t max_reply_timeout;      //  Largest timeout option
    int64_t result_ttl;             //  Ms a finished task stays readable
    int64_t task_ttl;               //  Default ms a task may wait, or 0 (zg_qexpiry)
    int64_t max_task_ttl;           //  Largest ttl option
    int64_t max_results;            //  Finished tasks kept
    int64_t keep_input;             //  Finished tasks keep their input for GET
    int64_t recent_size;            //  Recently finished tasks in STATS
    int64_t data_max_size;          //  Bytes the durable store may grow to
    int64_t data_repair;            //  The log store skips damaged committed bytes
    char data_dir [ZG_QSETTINGS_PATH_MAX];  //  Durable store's directory, or "" (in memory)
    char data_store [8];            //  Durable store's kind: "log" or "lmdb" (zg_qdurable)
} zg_qsettings_t;

//  One queue or command name of READY
typedef struct {
    bool command;                   //  A command, not a queue
    char text [ZG_QOPTIONS_NAME_MAX + 1];   //  The name, NUL ended
} zg_qname_t;

//  The options of one request, as parsed
typedef struct {
    bool reply;                     //  Producer wants the outcome
    bool scatter;                   //  CALL to every worker of the command
    bool until_read;                //  The result goes once GET has read it
    int64_t timeout;                //  Reply timeout, ms
    int64_t priority;               //  Task priority: higher first
    int64_t ack_timeout;            //  Ack timeout, ms
    int64_t ttl;                    //  Time it may wait, ms, or 0 (zg_qexpiry); -1 if
                                    //  not given: its queue's default (zg_qttl)
    int64_t prefetch;               //  READY: prefetch
    int64_t version;                //  READY: worker protocol version, 1 or 2 (zg_qv2.h)
    zg_qname_t *names;              //  READY: queues and commands, or NULL
    size_t name_count;              //  READY: number of names
    zg_qname_t *quiet;              //  READY: option quiet's names, or NULL
    size_t quiet_count;             //  READY: their number
    const zg_holder_t *holder;      //  Who the names it makes are charged to: set
                                    //  by the actor, not parsed; NULL: nobody
} zg_qoptions_t;

//  The settings' defaults
zg_qsettings_t
    zg_qsettings_defaults (void);

//  Set one setting from its config key and text value. Returns 0, or -1
//  with a reason (unknown key, not a number, out of bounds): unchanged.
int
    zg_qsettings_set (zg_qsettings_t *self, const char *key, const char *value, char *error, size_t size);

//  A valid queue or command name: 1 to max-name-size of A-Z a-z 0-9 . _ - :
bool
    zg_qsettings_valid_name (const zg_qsettings_t *self, const void *name, size_t size);

//  Parse an options frame (empty, or a msgpack map): READY's keys if ready,
//  else SEND's and CALL's. Returns 0, or -1 with a ZG_ERR_* code and a
//  reason (ZG_WIRE_REASON_SIZE bytes); either way the caller then calls
//  zg_qoptions_clear.
int
    zg_qoptions_parse (zg_qoptions_t *self, const zg_qsettings_t *settings, const void *data, size_t size,
                       bool ready, int *code, char *reason);

//  Read an array of names (queues, or commands) into self->names, each
//  valid, none twice, within max-subscriptions; 0, or -1 with a ZG_ERR_*
//  code (the caller sets ZG_ERR_BAD_REQUEST first) and a reason
int
    zg_qoptions_names (zg_qoptions_t *self, const zg_qsettings_t *settings, zg_mpreader_t *reader, bool command,
                       const char *key, int *code, char *reason);

//  Whether READY's option quiet lists name (a command)
bool
    zg_qoptions_is_quiet (const zg_qoptions_t *self, const zg_qname_t *name);

//  Pack the map a READY with these options is answered with: heartbeat and
//  timeout, and the version if the worker asked for one
void
    zg_qoptions_pack_ready (const zg_qoptions_t *self, const zg_qsettings_t *settings, msgpack_packer *packer);

//  Free what parsing allocated (the names)
void
    zg_qoptions_clear (zg_qoptions_t *self);

//  Self test of this class
void
    zg_qoptions_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
