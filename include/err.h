/* err.h - the project's internal error codes: one table, zero is success. MQTT reason codes are
 * wire values and live in mqtt_protocol.h instead. */
#ifndef ERR_H
#define ERR_H

#define ERR_TABLE(X)                                     \
    X(ERR_OK, "success")                                 \
    X(ERR_NOMEM, "out of memory")                        \
    X(ERR_SYS, "system call failed")                     \
    X(ERR_INVAL, "invalid argument")                     \
    X(ERR_PROTOCOL, "protocol error")                    \
    X(ERR_MALFORMED, "malformed packet")                 \
    X(ERR_OVERSIZE, "oversize packet")                   \
    X(ERR_PROXY, "PROXY header rejected")                \
    X(ERR_AUTH, "not authorised")                        \
    X(ERR_CONN_LOST, "connection closed by client")      \
    X(ERR_TIMEOUT, "exceeded timeout")                   \
    X(ERR_CONF, "configuration error")                   \
    X(ERR_NOT_SUPPORTED, "not supported by this build")

#define X(code, text) code,
enum err { ERR_TABLE(X) ERR__COUNT };
#undef X

const char *err_str(int e);

#endif
