/* err.c - names for the internal error codes of err.h, expanded from the same ERR_TABLE so the
 * enum and its text cannot drift apart. MQTT reason codes are not here (mqtt_protocol.h). */
#include "err.h"

#include <stddef.h>

#define X(code, text) text,
static const char *const err_text[] = { ERR_TABLE(X) };
#undef X

const char *err_str(int e)
{
    if (e < 0 || (size_t)e >= sizeof(err_text) / sizeof(err_text[0]))
        return "unknown error";
    return err_text[e];
}
