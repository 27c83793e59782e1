/* conf_opts.c - the option table: one row per mosquitto.conf keyword of Mosquitto 2.1, plus our
 * PROXY additions. conf.c does the parsing; this file only says what each word is and where its
 * value goes. Not every word is built yet: see the status rules below. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "conf_opts.h"

/* Status of a row, in words (the release note's table is generated from these rules):
 * - typed rows and T_CUSTOM: implemented, the value lands in struct conf for the broker.
 *   `protocol http_api` is parsed here but refused by conf_validate().
 * - T_UNSUPPORTED: "Option 'X' is not supported by this build." at start-up, never silently
 *   dropped. `harmless` lists the values that equal what the broker does anyway (persistence
 *   false, mptcp false, global_max_clients -1, ...): those are accepted so that stock configs
 *   which spell out a default still start.
 * - T_IGNORED: accepted, value checked, no effect, because nothing observable depends on it here:
 *   packet_buffer_size/websockets_headers_size are buffer tuning; websockets_log_level
 *   is for libwebsockets' own log; retain_expiry_interval only frees expired
 *   retained messages earlier (they are never delivered once expired).
 * - T_OBSOLETE: accepted with a warning, exactly as Mosquitto 2 does. */

#define NO 0, 0, F_NONE, NULL, NULL
#define G(f) SCOPE_GLOBAL, offsetof(struct conf, f)
#define L(f) SCOPE_LISTENER, offsetof(struct listener_conf, f)
#define LO(f) SCOPE_LISTENER_ONLY, offsetof(struct listener_conf, f)
#define S(f) SCOPE_SECURITY, offsetof(struct security_conf, f)
#define B(f) SCOPE_BRIDGE, offsetof(struct bridge_conf, f)
#define BNUM 0, 0, F_NONE, conf_opt_bridge_number, NULL
#define NUM(lo, hi, fl) (lo), (hi), (fl), NULL, NULL
#define STR(maxlen) 0, (maxlen), F_NONE, NULL, NULL
#define PATH 0, 0, F_PATH, NULL, NULL
#define CUSTOM(fn) 0, 0, F_NONE, fn, NULL
#define ANY SCOPE_NONE, 0
#define UNSUP(harmless) SCOPE_NONE, 0, 0, 0, F_NONE, NULL, harmless
#define IGN(lo, hi, fl) SCOPE_NONE, 0, (lo), (hi), (fl), NULL, NULL

#define MQTT_MAX_PAYLOAD 268435455

const struct conf_opt conf_opts[] = {
/*    keyword                           type           target / value rules */
    /* General options */
    { "acl_file",                       T_STR,         S(acl_file), PATH },
    { "allow_anonymous",                T_TRISTATE,    S(allow_anonymous), NUM(0, 0, F_NONE) },
    { "allow_duplicate_messages",       T_BOOL,        G(allow_duplicate_messages), NUM(0, 0, 0) },
    { "allow_zero_length_clientid",     T_BOOL,
        S(allow_zero_length_clientid), NUM(0, 0, 0) },
    { "auth_opt_*",                     T_UNSUPPORTED, UNSUP(NULL) },
    { "auth_plugin",                    T_UNSUPPORTED, UNSUP(NULL) },
    { "auth_plugin_deny_special_chars", T_UNSUPPORTED, UNSUP(NULL) },
    { "auto_id_prefix",                 T_STR,         S(auto_id_prefix), STR(50) },
    { "autosave_interval",              T_INT,
        G(autosave_interval), NUM(0, INT_MAX, F_NEG_ZERO) },
    { "autosave_on_changes",            T_BOOL,        G(autosave_on_changes), NUM(0, 0, 0) },
    { "backpressure_timeout",           T_INT,         G(backpressure_timeout), NUM(0, 3600, 0) },
    { "check_retain_source",            T_BOOL,        G(check_retain_source), NUM(0, 0, 0) },
    { "clientid_prefixes",              T_CUSTOM,      ANY, CUSTOM(conf_opt_clientid_prefixes) },
    { "connection_messages",            T_BOOL,        G(connection_messages), NUM(0, 0, 0) },
    { "enable_control_api",             T_UNSUPPORTED, UNSUP("false|0") },
    { "global_max_clients",             T_INT,
        G(global_max_clients), NUM(-1, INT_MAX, F_NEG_MINUS1) },
    { "global_max_connections",         T_INT,
        G(global_max_connections), NUM(-1, INT_MAX, F_NEG_MINUS1) },
    { "global_plugin",                  T_UNSUPPORTED, UNSUP(NULL) },
    { "include_dir",                    T_CUSTOM,      ANY, CUSTOM(conf_opt_include_dir) },
    { "log_dest",                       T_CUSTOM,      ANY, CUSTOM(conf_opt_log_dest) },
    { "log_facility",                   T_CUSTOM,      ANY, CUSTOM(conf_opt_log_facility) },
    { "log_timestamp",                  T_BOOL,        G(log_timestamp), NUM(0, 0, 0) },
    { "log_timestamp_format",           T_STR,         G(log_timestamp_format), STR(0) },
    { "log_type",                       T_CUSTOM,      ANY, CUSTOM(conf_opt_log_type) },
    { "max_inflight_bytes",             T_UINT32,
        G(max_inflight_bytes), NUM(0, UINT32_MAX, F_NEG_ZERO) },
    { "max_inflight_messages",          T_INT,
        G(max_inflight_messages), NUM(0, 65535, F_NEG_ZERO) },
    { "max_keepalive",                  T_INT,         G(max_keepalive), NUM(0, 65535, 0) },
    { "max_packet_size",                T_CUSTOM,
        G(max_packet_size), CUSTOM(conf_opt_max_packet_size) },
    { "max_queued_bytes",               T_UINT32,
        G(max_queued_bytes), NUM(0, UINT32_MAX, F_NEG_ZERO) },
    { "max_queued_messages",            T_INT,
        G(max_queued_messages), NUM(0, INT_MAX, F_NEG_ZERO) },
    { "memory_limit",                   T_UNSUPPORTED, UNSUP("0") },
    { "message_size_limit",             T_UINT32,
        G(message_size_limit), NUM(0, MQTT_MAX_PAYLOAD, 0) },
    { "password_file",                  T_STR,         S(password_file), PATH },
    { "per_listener_settings",          T_CUSTOM,
        ANY, CUSTOM(conf_opt_per_listener_settings) },
    { "persistence",                    T_BOOL,        G(persistence), NUM(0, 0, 0) },
    { "persistence_allow_damaged",      T_BOOL,        G(persistence_allow_damaged), NUM(0, 0, 0) },
    { "persistence_file",               T_STR,         G(persistence_file), STR(0) },
    { "persistence_location",           T_STR,         G(persistence_location), PATH },
    { "persistence_sync",               T_BOOL,        G(persistence_sync), NUM(0, 0, 0) },
    { "persistent_client_expiration",   T_DURATION,
        G(persistent_client_expiration), NUM(0, 0, 0) },
    { "pid_file",                       T_STR,         G(pid_file), PATH },
    { "plugin",                         T_UNSUPPORTED, UNSUP(NULL) },
    { "plugin_load",                    T_UNSUPPORTED, UNSUP(NULL) },
    { "plugin_opt_*",                   T_UNSUPPORTED, UNSUP(NULL) },
    { "plugin_use",                     T_UNSUPPORTED, UNSUP(NULL) },
    { "psk_file",                       T_STR,         G(psk_file), STR(0) },
    { "queue_qos0_messages",            T_BOOL,        G(queue_qos0_messages), NUM(0, 0, 0) },
    { "retain_available",               T_BOOL,        G(retain_available), NUM(0, 0, 0) },
    { "retain_expiry_interval",         T_IGNORED,     IGN(1, INT_MAX, F_CHECK_INT) },
    { "retained_persistence",           T_UNSUPPORTED, UNSUP("false|0") },
    { "retry_interval",                 T_OBSOLETE,    ANY, NO },
    { "set_tcp_nodelay",                T_BOOL,        G(set_tcp_nodelay), NUM(0, 0, 0) },
    { "sys_interval",                   T_INT,         G(sys_interval), NUM(0, 65535, 0) },
    { "upgrade_outgoing_qos",           T_BOOL,        G(upgrade_outgoing_qos), NUM(0, 0, 0) },
    { "user",                           T_STR,         G(user), STR(0) },

    /* Listeners: general */
    { "accept_protocol_versions",       T_CUSTOM,
        LO(accept_versions), CUSTOM(conf_opt_accept_protocol_versions) },
    { "bind_address",                   T_CUSTOM,      ANY, CUSTOM(conf_opt_bind_address) },
    { "bind_interface",                 T_STR,         L(bind_interface), STR(0) },
    { "http_dir",                       T_UNSUPPORTED, UNSUP(NULL) },
    { "listener",                       T_CUSTOM,      ANY, CUSTOM(conf_opt_listener) },
    { "listener_allow_anonymous",       T_TRISTATE,    LO(allow_anonymous), NUM(0, 0, F_NONE) },
    { "listener_auto_id_prefix",        T_STR,         LO(auto_id_prefix), STR(50) },
    { "max_connections",                T_INT,
        L(max_connections), NUM(-1, INT_MAX, F_NEG_MINUS1) },
    { "max_qos",                        T_INT,         L(max_qos), NUM(0, 2, 0) },
    { "maximum_qos",                    T_INT,         L(max_qos), NUM(0, 2, 0) },
    { "max_topic_alias",                T_INT,         LO(max_topic_alias), NUM(0, 65535, 0) },
    { "max_topic_alias_broker",         T_INT,
        LO(max_topic_alias_broker), NUM(0, 65535, 0) },
    { "mount_point",                    T_CUSTOM,
        LO(mount_point), CUSTOM(conf_opt_mount_point) },
    { "mptcp",                          T_UNSUPPORTED, UNSUP("false|0") },
    { "packet_buffer_size",             T_IGNORED,     IGN(0, 65535, F_CHECK_INT) },
    { "port",                           T_CUSTOM,      ANY, CUSTOM(conf_opt_port) },
    { "protocol",                       T_CUSTOM,      L(protocol), CUSTOM(conf_opt_protocol) },
    { "socket_domain",                  T_CUSTOM,
        L(socket_domain), CUSTOM(conf_opt_socket_domain) },
    { "use_username_as_clientid",       T_BOOL,        L(use_username_as_clientid), NUM(0, 0, 0) },
    { "websockets_headers_size",        T_IGNORED,     IGN(0, 65535, F_CHECK_INT) },
    { "websockets_log_level",           T_IGNORED,     IGN(INT_MIN, INT_MAX, F_CHECK_INT) },
    { "websockets_origin",              T_CUSTOM,
        LO(ws_origins), CUSTOM(conf_opt_websockets_origin) },

    /* Listeners: PROXY protocol (ours beyond enable_proxy_protocol / _v2_require_tls) */
    { "enable_proxy_protocol",          T_CUSTOM,
        LO(proxy_version), CUSTOM(conf_opt_proxy_protocol) },
    { "enable_proxy_protocol_v2",       T_CUSTOM,
        LO(proxy_version), CUSTOM(conf_opt_proxy_protocol_v2) },
    { "proxy_protocol_v2_require_tls",  T_BOOL,        LO(proxy_require_tls), NUM(0, 0, 0) },
    { "proxy_protocol_timeout",         T_INT,         LO(proxy_timeout), NUM(1, 3600, 0) },
    { "proxy_protocol_allow_from",      T_CUSTOM,
        LO(proxy_allow), CUSTOM(conf_opt_proxy_allow_from) },

    /* Listeners: certificate based TLS (see the status rules above) */
    { "cafile",                         T_STR,         LO(cafile), PATH },
    { "capath",                         T_STR,         L(capath), PATH },
    { "certfile",                       T_STR,         L(certfile), PATH },
    { "ciphers",                        T_STR,         L(ciphers), STR(0) },
    { "ciphers_tls1.3",                 T_STR,         L(ciphers_tls13), STR(0) },
    { "crlfile",                        T_STR,         L(crlfile), PATH },
    { "dhparamfile",                    T_OBSOLETE,    ANY, NO },
    { "disable_client_cert_date_checks", T_BOOL,
        L(disable_client_cert_date_checks), NUM(0, 0, 0) },
    { "keyfile",                        T_STR,         L(keyfile), PATH },
    { "require_certificate",            T_BOOL,        L(require_certificate), NUM(0, 0, 0) },
    { "tls_engine",                     T_STR,         L(tls_engine), STR(0) },
    { "tls_engine_kpass_sha1",          T_UNSUPPORTED, UNSUP(NULL) },
    { "tls_keyform",                    T_STR,         L(tls_keyform), STR(0) },
    { "tls_version",                    T_STR,         LO(tls_version), STR(0) },
    { "use_identity_as_username",       T_BOOL,        L(use_identity_as_username), NUM(0, 0, 0) },
    { "use_subject_as_username",        T_BOOL,        L(use_subject_as_username), NUM(0, 0, 0) },

    /* Listeners: pre-shared-key TLS */
    { "psk_hint",                       T_STR,         L(psk_hint), STR(0) },

    /* Bridges: every row but `connection` needs a `connection` line first (SCOPE_BRIDGE) */
    { "address",                        T_CUSTOM,      ANY, CUSTOM(conf_opt_bridge_address) },
    { "addresses",                      T_CUSTOM,      ANY, CUSTOM(conf_opt_bridge_address) },
    { "bridge_alpn",                    T_STR,         B(alpn), STR(0) },
    { "bridge_attempt_unsubscribe",     T_BOOL,        B(attempt_unsubscribe), NUM(0, 0, 0) },
    { "bridge_bind_address",            T_STR,         B(bind_address), STR(0) },
    { "bridge_cafile",                  T_STR,         B(cafile), STR(0) },
    { "bridge_capath",                  T_STR,         B(capath), STR(0) },
    { "bridge_certfile",                T_STR,         B(certfile), STR(0) },
    { "bridge_ciphers",                 T_STR,         B(ciphers), STR(0) },
    { "bridge_ciphers_tls1.3",          T_STR,         B(ciphers_tls13), STR(0) },
    { "bridge_identity",                T_STR,         B(identity), STR(0) },
    { "bridge_insecure",                T_CUSTOM,      B(insecure), CUSTOM(conf_opt_bridge_insecure) },
    { "bridge_keyfile",                 T_STR,         B(keyfile), STR(0) },
    { "bridge_max_packet_size",         T_CUSTOM,      B(max_packet_size), BNUM },
    { "bridge_max_topic_alias",         T_CUSTOM,      B(max_topic_alias), BNUM },
    { "bridge_outgoing_retain",         T_BOOL,        B(outgoing_retain), NUM(0, 0, 0) },
    { "bridge_protocol_version",        T_CUSTOM,
        B(protocol_version), CUSTOM(conf_opt_bridge_protocol) },
    { "bridge_psk",                     T_STR,         B(psk), STR(0) },
    { "bridge_receive_maximum",         T_CUSTOM,      B(receive_maximum), BNUM },
    { "bridge_reload_type",             T_CUSTOM,
        B(reload_immediate), CUSTOM(conf_opt_bridge_reload_type) },
    { "bridge_require_ocsp",            T_BOOL,        B(require_ocsp), NUM(0, 0, 0) },
    { "bridge_session_expiry_interval", T_CUSTOM,      B(session_expiry), BNUM },
    { "bridge_tcp_keepalive",           T_CUSTOM,
        B(tcp_ka_idle), CUSTOM(conf_opt_bridge_tcp_keepalive) },
    { "bridge_tcp_user_timeout",        T_CUSTOM,      B(tcp_user_timeout), BNUM },
    { "bridge_tls_use_os_certs",        T_BOOL,        B(tls_use_os_certs), NUM(0, 0, 0) },
    { "bridge_tls_version",             T_STR,         B(tls_version), STR(0) },
    { "cleansession",                   T_BOOL,        B(clean), NUM(0, 0, 0) },
    { "clientid",                       T_STR,         B(remote_clientid), STR(65535) },
    { "connection",                     T_CUSTOM,      ANY, CUSTOM(conf_opt_connection) },
    { "idle_timeout",                   T_CUSTOM,      B(idle_timeout), BNUM },
    { "keepalive_interval",             T_CUSTOM,      B(keepalive), BNUM },
    { "local_cleansession",             T_TRISTATE,    B(local_clean), NUM(0, 0, 0) },
    { "local_clientid",                 T_STR,         B(local_clientid), STR(65535) },
    { "local_password",                 T_STR,         B(local_password), STR(65535) },
    { "local_username",                 T_STR,         B(local_username), STR(65535) },
    { "notification_topic",             T_STR,         B(notification_topic), STR(65535) },
    { "notifications",                  T_BOOL,        B(notifications), NUM(0, 0, 0) },
    { "notifications_local_only",       T_BOOL,        B(notifications_local_only), NUM(0, 0, 0) },
    { "password",                       T_STR,         B(remote_password), STR(65535) },
    { "remote_clientid",                T_STR,         B(remote_clientid), STR(65535) },
    { "remote_password",                T_STR,         B(remote_password), STR(65535) },
    { "remote_username",                T_STR,         B(remote_username), STR(65535) },
    { "restart_timeout",                T_CUSTOM,
        B(restart_base), CUSTOM(conf_opt_bridge_restart) },
    { "round_robin",                    T_BOOL,        B(round_robin), NUM(0, 0, 0) },
    { "start_type",                     T_CUSTOM,
        B(start_type), CUSTOM(conf_opt_bridge_start_type) },
    { "threshold",                      T_CUSTOM,      B(threshold), BNUM },
    { "topic",                          T_CUSTOM,      ANY, CUSTOM(conf_opt_bridge_topic) },
    { "try_private",                    T_BOOL,        B(try_private), NUM(0, 0, 0) },
    { "username",                       T_STR,         B(remote_username), STR(65535) },
    { NULL, T_IGNORED, ANY, NO }
};

const struct conf_opt *conf_opt_find(const char *keyword)
{
    const struct conf_opt *prefix_match = NULL;

    for (const struct conf_opt *o = conf_opts; o->keyword != NULL; o++) {
        size_t n = strlen(o->keyword);
        if (strcmp(o->keyword, keyword) == 0)
            return o;
        /* "plugin_opt_*" needs at least one character after the prefix, as upstream does */
        if (n > 0 && o->keyword[n - 1] == '*' && strncmp(o->keyword, keyword, n - 1) == 0
            && keyword[n - 1] != '\0')
            prefix_match = o;
    }
    return prefix_match;
}
