/* conf_opts.h - the mosquitto.conf option table: the row type and the table itself (conf_opts.c).
 * Only conf.c and the unit tests need this; the broker reads struct conf (conf.h). */
#ifndef CONF_OPTS_H
#define CONF_OPTS_H

#include <stddef.h>

#include "conf.h"

enum conf_type {
    T_BOOL,        /* bool field: true | false (and 1 | 0, as Mosquitto accepts) */
    T_TRISTATE,    /* int field holding -1 (unset), 0 or 1; parsed as a boolean */
    T_INT,         /* int field, min..max */
    T_UINT32,      /* uint32_t field, min..max */
    T_STR,         /* owned char * field: the rest of the line; max > 0 limits its length */
    T_DURATION,    /* long field: N followed by s h d w m y (seconds) */
    T_CUSTOM,      /* custom() parses the arguments */
    T_IGNORED,     /* accepted (the value is checked as `check` says) and has no effect */
    T_OBSOLETE,    /* accepted with a warning: Mosquitto 2 no longer uses it either */
    T_UNSUPPORTED  /* start-up error, unless the value is one of `harmless` */
};

enum conf_scope {
    SCOPE_NONE,          /* no target field */
    SCOPE_GLOBAL,        /* field of struct conf */
    SCOPE_LISTENER,      /* field of struct listener_conf: the current listener, or the
                          * default listener before any `listener` line */
    SCOPE_LISTENER_ONLY, /* same, but a `listener` line must come first */
    SCOPE_SECURITY,      /* field of struct security_conf: global, or the current listener's
                          * when per_listener_settings is true */
    SCOPE_BRIDGE         /* field of struct bridge_conf: the current `connection` section */
};

/* Value rules for T_INT / T_UINT32 (and T_IGNORED rows that check a number). */
enum conf_flag {
    F_NONE = 0,
    F_NEG_ZERO = 1,      /* a negative value means 0 (Mosquitto clamps, we do the same) */
    F_NEG_MINUS1 = 2,    /* a negative value means -1 (unlimited) */
    F_CHECK_INT = 4,     /* T_IGNORED: the value must be an integer in min..max */
    F_CHECK_BOOL = 8,    /* T_IGNORED: the value must be a boolean */
    F_CHECK_STR = 16,    /* T_IGNORED: a value must be present */
    F_PATH = 32          /* T_STR: a file name, made absolute when the broker will chdir (-d) */
};

/* Context of the line being parsed. */
struct conf_parse {
    struct conf *c;
    const char *file;        /* interned in c->parse_files */
    int line;
    const char *keyword;     /* as written (differs from the row's for "plugin_opt_*") */
};

struct conf_opt {
    const char *keyword;          /* "plugin_opt_*": a trailing '*' matches any suffix */
    enum conf_type type;
    enum conf_scope scope;
    size_t offset;                /* of the field in the scope's struct */
    long long min, max;
    unsigned flags;
    /* T_CUSTOM: parses args (the rest of the line, trimmed, never NULL) into the target. */
    int (*custom)(struct conf_parse *p, const struct conf_opt *o, char *args);
    const char *harmless;         /* T_UNSUPPORTED: "|"-separated values accepted silently */
};

extern const struct conf_opt conf_opts[];   /* ends with a row whose keyword is NULL */

/* The row for keyword (exact match first, then "prefix*" rows), or NULL. */
const struct conf_opt *conf_opt_find(const char *keyword);

/* Custom parsers, in conf.c. */
int conf_opt_listener(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_port(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bind_address(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_socket_domain(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_protocol(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_mount_point(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_log_dest(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_log_type(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_log_facility(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_clientid_prefixes(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_per_listener_settings(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_max_packet_size(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_include_dir(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_proxy_protocol(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_proxy_protocol_v2(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_proxy_allow_from(struct conf_parse *p, const struct conf_opt *o, char *args);

/* conf.c's helpers, for the parsers in conf_bridge.c. conf_fail*() log "Error..." texts in
 * Mosquitto's two-line form and return rc; conf_warn() logs a line without a location. */
int conf_fail(struct conf_parse *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int conf_fail_at(const char *file, int line, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void conf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *conf_next_token(char **s);   /* NULL at the end of the line or at a '#' comment */
int conf_one_value(struct conf_parse *p, char *args, char **value);
int conf_get_bool(struct conf_parse *p, char *args, bool *out);
bool conf_parse_number(const char *s, long long *out);
int conf_nomem(struct conf_parse *p);

/* Bridges (conf_bridge.c): the `connection` section parsers, the checks at the end of the
 * configuration, and freeing. */
int conf_opt_connection(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bridge_address(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bridge_topic(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bridge_protocol(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bridge_start_type(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bridge_restart(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bridge_number(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bridge_reload_type(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bridge_insecure(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_opt_bridge_tcp_keepalive(struct conf_parse *p, const struct conf_opt *o, char *args);
int conf_bridges_validate(struct conf *c);
const char *conf_bridge_tls_option(const struct bridge_conf *b); /* first TLS option set */
void conf_bridges_free(struct conf *c);

#endif
