//  workqueue_ops - the four reference task handlers of the workqueue examples

#include <crypt.h>
#include <math.h>
#include "workqueue_ops.h"

//  Longest input the handlers accept, bytes
#define WORKQUEUE_MAX_INPUT 4096
//  Deepest parenthesis nesting the arithmetic parser accepts
#define WORKQUEUE_MAX_DEPTH 64
//  bcrypt cost, as qmanager's encoder
#define WORKQUEUE_BCRYPT_COST 10

//  --------------------------------------------------------------------------
//  Copy a frame into a NUL-terminated string; -1 if too long or has NULs

static int
s_input (zframe_t *input, char *buffer, size_t size, char *reason, size_t reason_size)
{
    if (zframe_size (input) >= size || memchr (zframe_data (input), 0, zframe_size (input))) {
        snprintf (reason, reason_size, "input must be text of at most %zu bytes", size - 1);
        return -1;
    }
    memcpy (buffer, zframe_data (input), zframe_size (input));
    buffer [zframe_size (input)] = 0;
    return 0;
}

//  --------------------------------------------------------------------------
//  A frame holding a string

static zframe_t *
s_output (const char *text)
{
    return zframe_new (text, strlen (text));
}

//  --------------------------------------------------------------------------
//  fibonacci: n from 0 to 92 (the largest that fits 64 bits)

int
workqueue_fibonacci (const char *name, zframe_t *input, zframe_t **output_p, char *reason, size_t reason_size,
                     void *arg)
{
    (void) name;
    (void) arg;
    char text [32];
    if (s_input (input, text, sizeof text, reason, reason_size))
        return ZG_WORKER_FAIL;
    char *end;
    errno = 0;
    long n = strtol (text, &end, 10);
    if (errno || end == text || *end || n < 0 || n > 92) {
        snprintf (reason, reason_size, "fibonacci needs an integer from 0 to 92, not '%s'", text);
        return ZG_WORKER_FAIL;
    }
    uint64_t current = 0, next = 1;
    for (long index = 0; index < n; index++) {
        uint64_t sum = current + next;
        current = next;
        next = sum;
    }
    char result [32];
    snprintf (result, sizeof result, "%" PRIu64, current);
    *output_p = s_output (result);
    return ZG_WORKER_ACK;
}

//  --------------------------------------------------------------------------
//  arithmetic: a recursive-descent parser over + - * / ( ) and numbers

typedef struct {
    const char *cursor;             //  Next character
    int depth;                      //  Parentheses open
    const char *error;              //  First error, or NULL
} s_parser_t;

static double s_expression (s_parser_t *parser);

//  --------------------------------------------------------------------------

static void
s_skip_spaces (s_parser_t *parser)
{
    while (isspace ((unsigned char) *parser->cursor))
        parser->cursor++;
}

//  --------------------------------------------------------------------------
//  factor: [+-] factor | ( expression ) | number

static double
s_factor (s_parser_t *parser)
{
    s_skip_spaces (parser);
    if (*parser->cursor == '-' || *parser->cursor == '+') {
        bool negative = *parser->cursor++ == '-';
        double value = s_factor (parser);
        return negative? -value: value;
    }
    if (*parser->cursor == '(') {
        if (++parser->depth > WORKQUEUE_MAX_DEPTH) {
            parser->error = "too deeply nested";
            return 0;
        }
        parser->cursor++;
        double value = s_expression (parser);
        s_skip_spaces (parser);
        if (*parser->cursor != ')') {
            parser->error = parser->error? parser->error: "missing ')'";
            return 0;
        }
        parser->cursor++;
        parser->depth--;
        return value;
    }
    char *end;
    double value = strtod (parser->cursor, &end);
    if (end == parser->cursor || isnan (value) || isinf (value)) {
        parser->error = parser->error? parser->error: "a number or '(' was expected";
        return 0;
    }
    parser->cursor = end;
    return value;
}

//  --------------------------------------------------------------------------
//  term: factor { (* | /) factor }

static double
s_term (s_parser_t *parser)
{
    double value = s_factor (parser);
    while (!parser->error) {
        s_skip_spaces (parser);
        char operator = *parser->cursor;
        if (operator != '*' && operator != '/')
            break;
        parser->cursor++;
        double right = s_factor (parser);
        if (operator == '/' && right == 0) {
            parser->error = "division by zero";
            return 0;
        }
        value = operator == '*'? value * right: value / right;
    }
    return value;
}

//  --------------------------------------------------------------------------
//  expression: term { (+ | -) term }

static double
s_expression (s_parser_t *parser)
{
    double value = s_term (parser);
    while (!parser->error) {
        s_skip_spaces (parser);
        char operator = *parser->cursor;
        if (operator != '+' && operator != '-')
            break;
        parser->cursor++;
        double right = s_term (parser);
        value = operator == '+'? value + right: value - right;
    }
    return value;
}

//  --------------------------------------------------------------------------
//  The handler

int
workqueue_arithmetic (const char *name, zframe_t *input, zframe_t **output_p, char *reason, size_t reason_size,
                      void *arg)
{
    (void) name;
    (void) arg;
    char text [WORKQUEUE_MAX_INPUT];
    if (s_input (input, text, sizeof text, reason, reason_size))
        return ZG_WORKER_FAIL;
    s_parser_t parser = { text, 0, NULL };
    double value = s_expression (&parser);
    s_skip_spaces (&parser);
    if (!parser.error && *parser.cursor)
        parser.error = "unexpected characters after the expression";
    if (!parser.error && (isnan (value) || isinf (value)))
        parser.error = "the result is not a finite number";
    if (parser.error) {
        snprintf (reason, reason_size, "arithmetic: %s at offset %d", parser.error, (int) (parser.cursor - text));
        return ZG_WORKER_FAIL;
    }
    char result [64];
    snprintf (result, sizeof result, "%.15g", value);
    *output_p = s_output (result);
    return ZG_WORKER_ACK;
}

//  --------------------------------------------------------------------------
//  reverse: by UTF-8 characters, so multibyte text stays valid

int
workqueue_reverse (const char *name, zframe_t *input, zframe_t **output_p, char *reason, size_t reason_size,
                   void *arg)
{
    (void) name;
    (void) arg;
    size_t size = zframe_size (input);
    const byte *data = zframe_data (input);
    zframe_t *output = zframe_new (NULL, size);
    byte *target = zframe_data (output) + size;
    for (size_t index = 0; index < size;) {
        size_t length = data [index] < 0x80? 1: (data [index] & 0xe0) == 0xc0? 2:
                        (data [index] & 0xf0) == 0xe0? 3: (data [index] & 0xf8) == 0xf0? 4: 0;
        bool valid = length && index + length <= size;
        for (size_t more = 1; valid && more < length; more++)
            valid = (data [index + more] & 0xc0) == 0x80;
        if (!valid) {
            zframe_destroy (&output);
            snprintf (reason, reason_size, "reverse needs UTF-8 text (bad byte at offset %zu)", index);
            return ZG_WORKER_FAIL;
        }
        target -= length;
        memcpy (target, data + index, length);
        index += length;
    }
    *output_p = output;
    return ZG_WORKER_ACK;
}

//  --------------------------------------------------------------------------
//  encoder: bcrypt ($2b$, cost 10) through libcrypt

int
workqueue_encoder (const char *name, zframe_t *input, zframe_t **output_p, char *reason, size_t reason_size,
                   void *arg)
{
    (void) name;
    (void) arg;
    //  bcrypt uses at most 72 bytes of the password
    char text [73];
    if (s_input (input, text, sizeof text, reason, reason_size))
        return ZG_WORKER_FAIL;
    char salt [CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *data = (struct crypt_data *) zmalloc (sizeof (struct crypt_data));
    int rc = ZG_WORKER_FAIL;
    if (!crypt_gensalt_rn ("$2b$", WORKQUEUE_BCRYPT_COST, NULL, 0, salt, sizeof salt))
        snprintf (reason, reason_size, "encoder: no bcrypt salt: %s", strerror (errno));
    else
    if (!crypt_rn (text, salt, data, sizeof (struct crypt_data)) || data->output [0] == '*')
        snprintf (reason, reason_size, "encoder: bcrypt failed");
    else {
        *output_p = s_output (data->output);
        rc = ZG_WORKER_ACK;
    }
    free (data);
    return rc;
}

//  --------------------------------------------------------------------------
//  Register the four handlers on a worker

int
workqueue_ops_register (zg_worker_t *worker)
{
    if (zg_worker_register (worker, "fibonacci", false, workqueue_fibonacci, NULL)
    ||  zg_worker_register (worker, "arithmetic", false, workqueue_arithmetic, NULL)
    ||  zg_worker_register (worker, "reverse", false, workqueue_reverse, NULL)
    ||  zg_worker_register (worker, "encoder", false, workqueue_encoder, NULL))
        return -1;
    return 0;
}
