/* conf.h - the broker's configuration: what mosquitto.conf and the command line produce.
 * conf.c reads files into these structs through the option table in conf_opts.c; the rest of
 * src/ only reads them. Defaults are Mosquitto 2.1's. */
#ifndef CONF_H
#define CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* log_type bits */
enum log_level {
    LOG_T_NONE = 0, LOG_T_INFO = 1 << 0, LOG_T_NOTICE = 1 << 1, LOG_T_WARNING = 1 << 2,
    LOG_T_ERR = 1 << 3, LOG_T_DEBUG = 1 << 4, LOG_T_SUBSCRIBE = 1 << 5,
    LOG_T_UNSUBSCRIBE = 1 << 6, LOG_T_WEBSOCKETS = 1 << 7, LOG_T_INTERNAL = 1 << 8,
    LOG_T_ALL = 0xFFFF
};

/* log_dest bits */
enum log_dest {
    LOG_D_NONE = 0, LOG_D_STDERR = 1, LOG_D_STDOUT = 2, LOG_D_FILE = 4, LOG_D_SYSLOG = 8,
    LOG_D_TOPIC = 16, LOG_D_DLT = 32
};

enum listener_protocol { PROTO_MQTT, PROTO_WEBSOCKETS };

/* Security settings: global, or per listener when per_listener_settings is true. */
struct security_conf {
    int allow_anonymous;        /* -1 = unset (then: false if any listener is defined, etc.) */
    char *password_file;        /* owned; NULL if none */
    char *acl_file;             /* owned; NULL if none */
    char *auto_id_prefix;       /* owned; default "auto-" */
    bool allow_zero_length_clientid; /* default true */
    char **clientid_prefixes;   /* owned, NULL-terminated; NULL if unset */
};

struct listener_conf {
    uint16_t port;              /* 0 with unix_path set = unix socket */
    char *host;                 /* owned; bind address or NULL = any */
    char *unix_path;            /* owned */
    bool loopback;              /* local-only mode (-p, no listener): 127.0.0.1 and ::1 */
    int socket_domain;          /* AF_UNSPEC, AF_INET, AF_INET6 */
    char *bind_interface;       /* owned */
    int max_connections;        /* -1 = unlimited */
    char *mount_point;          /* owned */
    enum listener_protocol protocol;
    int max_qos;                /* 0..2, default 2 */
    int max_topic_alias;        /* default 10 */
    int max_topic_alias_broker; /* aliases we send to a client at most; default 10 */
    unsigned accept_versions;   /* accept_protocol_versions: bit (1 << v) for v = 3, 4, 5;
                                 * 0 = every version */
    int allow_anonymous;        /* listener_allow_anonymous: -1 unset, else wins over the
                                 * security settings' allow_anonymous */
    char *auto_id_prefix;       /* owned; listener_auto_id_prefix, NULL = unset */
    char **ws_origins;          /* owned, NULL-terminated websockets_origin list; NULL = any */
    bool use_username_as_clientid;
    /* TLS (tls.c): own handshake with certfile/keyfile or psk_hint, after a PROXY header if
     * enable_proxy_protocol is set too */
    char *cafile, *capath, *certfile, *keyfile, *ciphers, *tls_version, *crlfile;
    char *ciphers_tls13;        /* ciphers_tls1.3 */
    char *psk_hint;             /* TLS-PSK listener (keys in the global psk_file) */
    char *tls_engine;           /* refused by conf_validate(): no engines in this build */
    char *tls_keyform;          /* "pem" (default); "engine" is refused */
    bool disable_client_cert_date_checks;
    bool require_certificate;
    bool use_identity_as_username;
    bool use_subject_as_username;
    /* PROXY protocol */
    int proxy_version;          /* 0 = off, 1 or 2 */
    bool proxy_require_tls;     /* proxy_protocol_v2_require_tls */
    int proxy_timeout;          /* proxy_protocol_timeout seconds, default 5 */
    struct proxy_allow *proxy_allow; /* owned array; NULL = anyone may send a header */
    size_t proxy_allow_count;
    struct security_conf sec;   /* used when per_listener_settings is true */
    const char *file;           /* where the listener line was (for messages); borrowed */
    int line;
};

struct proxy_allow {
    struct sockaddr_storage addr;
    int prefix;                 /* bits */
};

/* One `topic` line of a bridge. Local and remote filters are the pattern with each side's prefix
 * (Mosquitto's remapping): a message on local_filter goes out as remote_prefix + the part after
 * local_prefix, and the reverse for messages coming in. */
enum bridge_dir { BRIDGE_OUT = 1, BRIDGE_IN = 2, BRIDGE_BOTH = 3 };

struct bridge_topic {
    char *local_filter;         /* owned: local_prefix + pattern */
    char *remote_filter;        /* owned: remote_prefix + pattern */
    char *local_prefix;         /* owned; "" when none */
    char *remote_prefix;        /* owned; "" when none */
    enum bridge_dir dir;
    uint8_t qos;
};

struct bridge_addr {
    char *host;                 /* owned */
    uint16_t port;              /* default 1883 */
};

enum bridge_start { BRIDGE_START_AUTOMATIC, BRIDGE_START_LAZY, BRIDGE_START_ONCE };

/* A `connection` section. Defaults are Mosquitto 2.1's (see conf.c bridge_defaults()). */
struct bridge_conf {
    char *name;                 /* owned: the connection name */
    struct bridge_addr *addrs;  /* owned array, in the order given */
    size_t naddrs;
    struct bridge_topic *topics; /* owned array */
    size_t ntopics;
    int protocol_version;       /* 3, 4 or 5 (bridge_protocol_version); default 4 */
    bool clean;                 /* cleansession, default false */
    int local_clean;            /* local_cleansession: -1 = as cleansession */
    char *remote_clientid;      /* owned; NULL = "<hostname>.<name>" */
    char *local_clientid;       /* owned; NULL = "local.<remote clientid>" */
    char *remote_username, *remote_password;   /* owned; NULL if none */
    char *local_username, *local_password;     /* owned; NULL if none */
    int keepalive;              /* keepalive_interval seconds, default 60, at least 5 */
    int idle_timeout;           /* lazy bridges: seconds without traffic, default 60 */
    enum bridge_start start_type;
    int threshold;              /* lazy bridges: queued messages that start it, default 10 */
    int restart_base, restart_cap; /* restart_timeout: cap 0 = constant base; default 5 30 */
    bool round_robin;           /* false: the first address is the main one */
    bool try_private;           /* default true */
    bool notifications;         /* default true */
    bool notifications_local_only;
    char *notification_topic;   /* owned; NULL = $SYS/broker/connection/<clientid>/state */
    bool attempt_unsubscribe;   /* bridge_attempt_unsubscribe, default true */
    bool outgoing_retain;       /* bridge_outgoing_retain, default true */
    uint32_t max_packet_size;   /* bridge_max_packet_size: 0 = none */
    int max_topic_alias;        /* bridge_max_topic_alias, default 10 */
    int receive_maximum;        /* bridge_receive_maximum, default 65535 */
    uint32_t session_expiry;    /* bridge_session_expiry_interval, default 0 */
    char *bind_address;         /* owned; bridge_bind_address */
    bool reload_immediate;      /* bridge_reload_type immediate (default lazy) */
    int tcp_ka_idle, tcp_ka_interval, tcp_ka_count; /* bridge_tcp_keepalive; 0 = system's */
    int tcp_user_timeout;       /* bridge_tcp_user_timeout, ms; 0 = system's */
    /* TLS on the outgoing connection (bridge.c, tls.c); require_ocsp is refused at start-up */
    char *cafile, *capath, *certfile, *keyfile, *tls_version, *alpn, *identity, *psk;
    char *ciphers, *ciphers_tls13;
    bool insecure, require_ocsp, tls_use_os_certs;
    const char *file;           /* where its `connection` line was; borrowed */
    int line;
};

struct conf {
    struct listener_conf *listeners; /* owned array */
    size_t listener_count;
    bool per_listener_settings;
    struct security_conf sec;   /* global security settings */
    bool allow_duplicate_messages;   /* default true */
    int global_max_clients;          /* connected clients at most; -1 = unlimited */
    int global_max_connections;      /* open connections at most; -1 = unlimited */
    bool check_retain_source;
    bool connection_messages;        /* default true */
    unsigned log_dest;               /* default stderr */
    unsigned log_type;               /* default error|warning|notice|information */
    bool log_timestamp;              /* default true */
    char *log_timestamp_format;      /* owned; NULL = seconds since epoch */
    char *log_file;                  /* owned (log_dest file PATH) */
    int log_facility;                /* 0..7: LOG_LOCAL0 + n; -1 = LOG_DAEMON */
    int backpressure_timeout;        /* seconds a publisher may wait on a receiver that makes
                                      * no progress; 0 = never wait (Mosquitto); default 2 */
    uint32_t max_inflight_bytes;     /* 0 = unlimited */
    int max_inflight_messages;       /* default 20 */
    int max_keepalive;               /* default 65535 */
    uint32_t max_packet_size;        /* 0 = unlimited */
    uint32_t max_queued_bytes;       /* 0 = unlimited */
    int max_queued_messages;         /* default 1000 */
    uint32_t message_size_limit;     /* 0 = unlimited (MQTT max) */
    long persistent_client_expiration; /* seconds; 0 = never */
    char *pid_file;                  /* owned */
    bool queue_qos0_messages;
    bool retain_available;           /* default true */
    bool set_tcp_nodelay;
    int sys_interval;                /* default 10; 0 = off */
    bool upgrade_outgoing_qos;
    char *user;                      /* owned; default "mosquitto" */
    char *psk_file;                  /* owned: identity:hexkey lines for psk_hint listeners */
    bool persistence;                /* keep state in the store (persist.c) */
    char *persistence_file;          /* owned; default "mosquitto.db": Mosquitto's file name, the
                                      * one we migrate from; our store is this + ".journal" */
    char *persistence_location;      /* owned; directory (with or without '/'), NULL = unset */
    int autosave_interval;           /* seconds (or changes, see below); default 1800; 0 = only
                                      * at shutdown and by the size rule of persist.c */
    bool autosave_on_changes;        /* autosave_interval counts changes, not seconds */
    bool persistence_sync;           /* ours: fdatasync each batch before acknowledging */
    bool persistence_allow_damaged;  /* ours: start with what a damaged store still holds */
    bool daemon;                     /* -d */
    bool abs_paths;                  /* set before parsing with -d: file names are made
                                      * absolute, since the daemon changes to / */
    bool verbose;                    /* -v: log_type all */
    bool quiet;                      /* -q: log_type none; wins over -v */
    bool listeners_from_cmdline;     /* -p was given: conf listeners are ignored */

    /* Added by conf.c (after the fields above, which keep their meaning). */
    bool local_only;                 /* no listener/port/bind_address line: listen on loopback
                                      * port 1883 with default_listener's settings */
    struct listener_conf default_listener; /* listener options used before any `listener`
                                      * line; moved into listeners[0] by conf_validate()
                                      * when `port` or `bind_address` was given */
    struct bridge_conf *bridges;     /* owned array: `connection` sections, in file order */
    size_t bridge_count;
    /* Parser state: for conf.c only. */
    int parse_bridge;                /* index of the bridge being configured; -1 = none */
    int parse_listener;              /* index of the listener being configured; -1 = none */
    int parse_depth;                 /* include_dir nesting */
    bool parse_default_used;         /* port / bind_address seen: start the default listener */
    bool parse_port_set;             /* `port` seen */
    bool parse_default_touched;      /* some option went to the default listener */
    bool parse_sec_touched;          /* a security option was set (per_listener_settings) */
    bool parse_log_dest_set, parse_log_type_set; /* first log_dest / log_type replaces default */
    char **parse_files;              /* owned: file names that listener_conf.file points at */
    size_t parse_file_count;
};

void conf_init(struct conf *c);      /* defaults */
/* A malloc'd copy of path; when c->abs_paths is set and path is relative, prefixed with the
 * current directory. NULL: out of memory. */
char *conf_abs_path(const struct conf *c, const char *path);
void conf_free(struct conf *c);
/* Parses a file (and its include_dir files) into c. On error logs one line
 * "FILE:LINE: Error: <Mosquitto's wording>" and returns ERR_CONF (ERR_NOT_SUPPORTED for an
 * option this build does not have, ERR_NOMEM). The location comes first so that Mosquitto's own
 * error texts stay intact for tools and tests that look for them. */
int conf_parse_file(struct conf *c, const char *path);
/* Parses one line of text as if it were at path:line (used by tests). */
int conf_parse_line(struct conf *c, const char *text, const char *path, int line);
/* Checks combinations after all files are read (e.g. PROXY + certfile); non-zero on error. */
int conf_validate(struct conf *c);
/* Effective security settings for a listener: &l->sec when per_listener_settings, else &c->sec.
 * After conf_validate(), allow_anonymous is never -1: an unset value becomes true in local-only
 * mode (no listener configured, loopback only, or listeners_from_cmdline set before
 * conf_validate(): -p) and false otherwise, as in Mosquitto 2. */
const struct security_conf *conf_security(const struct conf *c, const struct listener_conf *l);

/* True when `port` or `bind_address` configured the default listener (before conf_validate()). */
bool conf_default_listener_used(const struct conf *c);
/* True when the files gave `port` (the command line's -p then loses, as in 2.1.2). */
bool conf_default_listener_port_set(const struct conf *c);

/* The last error message conf.c logged ("FILE:LINE: Error: ..." or "Error: ..."), for tests and
 * --test-config; "" if none. Borrowed: valid until the next conf_* call. */
const char *conf_last_error(void);

/* Frees what a bridge section owns (not b itself) and zeroes it. */
void conf_bridge_clear(struct bridge_conf *b);
/* True if the bridge connects with TLS: bridge_cafile, bridge_capath, bridge_tls_use_os_certs
 * or bridge_identity/bridge_psk is set (2.1.2's rule). */
bool conf_bridge_uses_tls(const struct bridge_conf *b);
/* True if two bridge sections configure the same thing (a reload changes nothing). */
bool conf_bridge_equal(const struct bridge_conf *a, const struct bridge_conf *b);

#endif
