/* test_conf.c - unit tests of the mosquitto.conf parser: every keyword of the option table with a
 * valid value, error texts with file:line, include_dir order, CRLF and comments, PROXY
 * combinations, not-supported options, the default listener and allow_anonymous defaults. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "conf_opts.h"
#include "err.h"
#include "proxy_decode.h"
#include "unit.h"

/* A valid value for every keyword of the table ("*" rows are tried as "<prefix>x"). A keyword
 * missing here fails test_every_keyword, so a new row cannot land without a test value.
 * "@DIR" is replaced by an empty temporary directory. */
static const struct { const char *keyword, *value; } examples[] = {
    { "acl_file", "/etc/mosquitto/acl" }, { "allow_anonymous", "true" },
    { "allow_duplicate_messages", "false" }, { "allow_zero_length_clientid", "false" },
    { "auth_opt_*", "value" }, { "auth_plugin", "/usr/lib/auth.so" },
    { "auth_plugin_deny_special_chars", "true" }, { "auto_id_prefix", "pre-" },
    { "autosave_interval", "1800" }, { "autosave_on_changes", "false" },
    { "backpressure_timeout", "5" },
    { "check_retain_source", "false" }, { "clientid_prefixes", "secure-" },
    { "connection_messages", "false" }, { "enable_control_api", "true" },
    { "global_max_clients", "100" }, { "global_max_connections", "100" },
    { "global_plugin", "/usr/lib/p.so" }, { "include_dir", "@DIR" }, { "log_dest", "stdout" },
    { "log_facility", "5" }, { "log_timestamp", "false" },
    { "log_timestamp_format", "%Y-%m-%dT%H:%M:%S" }, { "log_type", "debug" },
    { "max_inflight_bytes", "100000" }, { "max_inflight_messages", "10" },
    { "max_keepalive", "60" }, { "max_packet_size", "1000" }, { "max_queued_bytes", "5000" },
    { "max_queued_messages", "100" }, { "memory_limit", "1000000" },
    { "message_size_limit", "1000" }, { "password_file", "/etc/mosquitto/passwd" },
    { "per_listener_settings", "false" }, { "persistence", "true" },
    { "persistence_file", "m.db" }, { "persistence_location", "/var/lib/mosquitto/" },
    { "persistence_sync", "true" }, { "persistence_allow_damaged", "true" },
    { "persistent_client_expiration", "2d" }, { "pid_file", "/run/mosquitto.pid" },
    { "plugin", "/usr/lib/p.so" }, { "plugin_load", "name /usr/lib/p.so" },
    { "plugin_opt_*", "value" }, { "plugin_use", "name" }, { "psk_file", "/etc/psk" },
    { "queue_qos0_messages", "true" }, { "retain_available", "false" },
    { "retain_expiry_interval", "10" }, { "retained_persistence", "true" },
    { "retry_interval", "20" }, { "set_tcp_nodelay", "true" },
    { "sys_interval", "0" }, { "upgrade_outgoing_qos", "true" }, { "user", "nobody" },
    { "accept_protocol_versions", "5" }, { "bind_address", "127.0.0.1" },
    { "bind_interface", "lo" }, { "http_dir", "/var/www" }, { "listener", "1884 ::1" },
    { "listener_allow_anonymous", "true" }, { "listener_auto_id_prefix", "x-" },
    { "max_connections", "-1" }, { "max_qos", "1" }, { "maximum_qos", "0" },
    { "max_topic_alias", "0" }, { "max_topic_alias_broker", "20" }, { "mount_point", "tenant/" },
    { "mptcp", "true" }, { "packet_buffer_size", "8192" }, { "port", "1885" },
    { "protocol", "mqtt" }, { "socket_domain", "ipv6" }, { "use_username_as_clientid", "true" },
    { "websockets_headers_size", "4096" }, { "websockets_log_level", "255" },
    { "websockets_origin", "http://example.com" }, { "enable_proxy_protocol", "2" },
    { "enable_proxy_protocol_v2", "true" }, { "proxy_protocol_v2_require_tls", "true" },
    { "proxy_protocol_timeout", "3" }, { "proxy_protocol_allow_from", "10.0.0.0/8 ::1" },
    { "cafile", "/etc/ca.pem" }, { "capath", "/etc/ssl/certs" }, { "certfile", "/etc/c.pem" },
    { "ciphers", "HIGH" }, { "ciphers_tls1.3", "TLS_AES_128_GCM_SHA256" },
    { "crlfile", "/etc/crl.pem" }, { "dhparamfile", "/etc/dh.pem" },
    { "disable_client_cert_date_checks", "true" }, { "keyfile", "/etc/k.pem" },
    { "require_certificate", "true" }, { "tls_engine", "pkcs11" },
    { "tls_engine_kpass_sha1", "0123" }, { "tls_keyform", "engine" },
    { "tls_version", "tlsv1.2" }, { "use_identity_as_username", "true" },
    { "use_subject_as_username", "false" }, { "psk_hint", "hint" }, { "address", "host:1883" },
    { "addresses", "host:1883" }, { "bridge_alpn", "mqtt" },
    { "bridge_attempt_unsubscribe", "false" }, { "bridge_bind_address", "10.0.0.1" },
    { "bridge_cafile", "/ca" }, { "bridge_capath", "/ca" }, { "bridge_certfile", "/c" },
    { "bridge_ciphers", "HIGH" }, { "bridge_ciphers_tls1.3", "TLS_AES_128_GCM_SHA256" },
    { "bridge_identity", "id" }, { "bridge_insecure", "false" }, { "bridge_keyfile", "/k" },
    { "bridge_max_packet_size", "1000" }, { "bridge_max_topic_alias", "10" },
    { "bridge_outgoing_retain", "true" },
    { "bridge_protocol_version", "mqttv50" }, { "bridge_psk", "abcd" },
    { "bridge_receive_maximum", "10" }, { "bridge_reload_type", "lazy" },
    { "bridge_require_ocsp", "false" }, { "bridge_session_expiry_interval", "0" },
    { "bridge_tcp_keepalive", "1 2 3" }, { "bridge_tcp_user_timeout", "1000" },
    { "bridge_tls_use_os_certs", "true" }, { "bridge_tls_version", "tlsv1.3" },
    { "cleansession", "true" }, { "clientid", "id" }, { "connection", "b1" },
    { "idle_timeout", "60" }, { "keepalive_interval", "60" }, { "local_cleansession", "true" },
    { "local_clientid", "id" }, { "local_password", "pw" }, { "local_username", "u" },
    { "notification_topic", "t" }, { "notifications", "true" },
    { "notifications_local_only", "false" }, { "password", "pw" }, { "remote_clientid", "id" },
    { "remote_password", "pw" }, { "remote_username", "u" }, { "restart_timeout", "10 60" },
    { "round_robin", "true" }, { "start_type", "lazy" }, { "threshold", "10" },
    { "topic", "# both 2" }, { "try_private", "true" }, { "username", "u" },
};

static char tmp_dir[64];

static const char *example_for(const char *keyword)
{
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++)
        if (strcmp(examples[i].keyword, keyword) == 0)
            return strcmp(examples[i].value, "@DIR") == 0 ? tmp_dir : examples[i].value;
    return NULL;
}

/* Writes text to a new temporary file; path receives its name (caller unlinks). */
static void write_temp(const char *text, char *path, size_t size)
{
    int fd;

    snprintf(path, size, "/tmp/test_conf_XXXXXX");
    fd = mkstemp(path);
    CU_ASSERT_FATAL(fd != -1);
    CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* Parses text as a whole file into a fresh *c; path receives the file name (already unlinked). */
static int parse_text(struct conf *c, const char *text, char *path, size_t size)
{
    int rc;

    conf_init(c);
    write_temp(text, path, size);
    rc = conf_parse_file(c, path);
    unlink(path);
    return rc;
}

/* Parses text and checks that it fails with rc and exactly "PATH:line: want", where want may
 * use %1$s for PATH. */
static void expect_error(const char *text, int want_rc, int line, const char *want)
{
    struct conf c;
    char path[64], msg[1024];
    int rc = parse_text(&c, text, path, sizeof(path));
    int n = snprintf(msg, sizeof(msg), "%s:%d: ", path, line);

    snprintf(msg + n, sizeof(msg) - (size_t)n, want, path);
    CU_ASSERT_EQUAL(rc, want_rc);
    CU_ASSERT_STRING_EQUAL(conf_last_error(), msg);
    if (strcmp(conf_last_error(), msg) != 0)
        fprintf(stderr, "\n  want: %s\n  got:  %s\n", msg, conf_last_error());
    conf_free(&c);
}

/* Parses and validates text; checks validate's rc and that its error contains want. */
static void expect_invalid(const char *text, int want_rc, const char *want)
{
    struct conf c;
    char path[64];

    CU_ASSERT_EQUAL_FATAL(parse_text(&c, text, path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(conf_validate(&c), want_rc);
    CU_ASSERT_PTR_NOT_NULL(strstr(conf_last_error(), want));
    if (strstr(conf_last_error(), want) == NULL)
        fprintf(stderr, "\n  want: %s\n  got:  %s\n", want, conf_last_error());
    conf_free(&c);
}

static void expect_valid(const char *text)
{
    struct conf c;
    char path[64];

    CU_ASSERT_EQUAL(parse_text(&c, text, path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
    if (conf_last_error()[0] != '\0')
        fprintf(stderr, "\n  unexpected: %s\n", conf_last_error());
    conf_free(&c);
}

static void test_every_keyword(void)
{
    char line[512], word[128];

    CU_ASSERT_FATAL(mkdtemp(strcpy(tmp_dir, "/tmp/test_conf_dir_XXXXXX")) != NULL);
    for (const struct conf_opt *o = conf_opts; o->keyword != NULL; o++) {
        const char *value = example_for(o->keyword);
        struct conf c;
        size_t n = strlen(o->keyword);
        int rc;

        if (value == NULL)
            fprintf(stderr, "\n  no example value for '%s'\n", o->keyword);
        CU_ASSERT_PTR_NOT_NULL_FATAL(value);
        snprintf(word, sizeof(word), "%.*s%s", (int)(n - (o->keyword[n - 1] == '*')),
                 o->keyword, o->keyword[n - 1] == '*' ? "x" : "");
        CU_ASSERT_PTR_EQUAL(conf_opt_find(word), o);
        conf_init(&c);
        CU_ASSERT_EQUAL(conf_parse_line(&c, "listener 1883", "t.conf", 1), ERR_OK);
        /* bridge options need a `connection` section, which listener options ignore */
        CU_ASSERT_EQUAL(conf_parse_line(&c, "connection bx", "t.conf", 1), ERR_OK);
        snprintf(line, sizeof(line), "%s %s", word, value);
        rc = conf_parse_line(&c, line, "t.conf", 2);
        if (o->type == T_UNSUPPORTED) {
            snprintf(line, sizeof(line),
                     "t.conf:2: Error: Option '%s' is not supported by this build.", word);
            CU_ASSERT_EQUAL(rc, ERR_NOT_SUPPORTED);
            CU_ASSERT_STRING_EQUAL(conf_last_error(), line);
        } else {
            if (rc != ERR_OK)
                fprintf(stderr, "\n  '%s': %s\n", line, conf_last_error());
            CU_ASSERT_EQUAL(rc, ERR_OK);
        }
        /* the same keyword without a value is refused too */
        if (o->type != T_OBSOLETE && !(o->type == T_IGNORED && o->flags == F_NONE))
            CU_ASSERT_NOT_EQUAL(conf_parse_line(&c, word, "t.conf", 3), ERR_OK);
        conf_free(&c);
    }
    rmdir(tmp_dir);
}

static void test_values_land(void)
{
    struct conf c;
    char path[64];
    const char *text =
        "allow_duplicate_messages false\n"
        "max_keepalive 60\n"
        "max_inflight_messages -5\n"
        "max_queued_bytes 4096\n"
        "message_size_limit 268435455\n"
        "persistent_client_expiration 3w\n"
        "pid_file  /run/m.pid  \n"
        "log_timestamp_format %H:%M:%S %d\n"
        "password_file /etc/pw\n"
        "clientid_prefixes secure-\n"
        "log_facility 3\n"
        "sys_interval 0\n"
        "listener 1883 127.0.0.1\n"
        "max_connections -10\n"
        "mount_point tenant/\n"
        "socket_domain ipv4\n"
        "max_qos 1\n"
        "listener 0 /tmp/m.sock\n"
        "enable_proxy_protocol 1\n"
        "proxy_protocol_timeout 3600\n";

    CU_ASSERT_EQUAL_FATAL(parse_text(&c, text, path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL_FATAL(conf_validate(&c), ERR_OK);
    CU_ASSERT_FALSE(c.allow_duplicate_messages);
    CU_ASSERT_EQUAL(c.max_keepalive, 60);
    CU_ASSERT_EQUAL(c.max_inflight_messages, 0);
    CU_ASSERT_EQUAL(c.max_queued_bytes, 4096);
    CU_ASSERT_EQUAL(c.message_size_limit, 268435455);
    CU_ASSERT_EQUAL(c.persistent_client_expiration, 21L * 86400);
    CU_ASSERT_STRING_EQUAL(c.pid_file, "/run/m.pid");
    CU_ASSERT_STRING_EQUAL(c.log_timestamp_format, "%H:%M:%S %d");
    CU_ASSERT_STRING_EQUAL(c.sec.password_file, "/etc/pw");
    CU_ASSERT_STRING_EQUAL(c.sec.clientid_prefixes[0], "secure-");
    CU_ASSERT_PTR_NULL(c.sec.clientid_prefixes[1]);
    CU_ASSERT_EQUAL(c.log_facility, 3);
    CU_ASSERT_EQUAL(c.sys_interval, 0);
    CU_ASSERT_STRING_EQUAL(c.user, "mosquitto");
    CU_ASSERT_STRING_EQUAL(c.sec.auto_id_prefix, "auto-");
    CU_ASSERT_FALSE(c.local_only);
    CU_ASSERT_EQUAL_FATAL(c.listener_count, 2);
    CU_ASSERT_EQUAL(c.listeners[0].port, 1883);
    CU_ASSERT_STRING_EQUAL(c.listeners[0].host, "127.0.0.1");
    CU_ASSERT_EQUAL(c.listeners[0].max_connections, -1);
    CU_ASSERT_STRING_EQUAL(c.listeners[0].mount_point, "tenant/");
    CU_ASSERT_EQUAL(c.listeners[0].socket_domain, AF_INET);
    CU_ASSERT_EQUAL(c.listeners[0].max_qos, 1);
    CU_ASSERT_EQUAL(c.listeners[0].proxy_version, 0);
    CU_ASSERT_EQUAL(c.listeners[0].line, 13);
    CU_ASSERT_STRING_EQUAL(c.listeners[0].file, path);
    CU_ASSERT_EQUAL(c.listeners[1].port, 0);
    CU_ASSERT_STRING_EQUAL(c.listeners[1].unix_path, "/tmp/m.sock");
    CU_ASSERT_PTR_NULL(c.listeners[1].host);
    CU_ASSERT_EQUAL(c.listeners[1].proxy_version, 1);
    CU_ASSERT_EQUAL(c.listeners[1].proxy_timeout, 3600);
    CU_ASSERT_EQUAL(c.listeners[1].max_qos, 2);
    CU_ASSERT_EQUAL(c.listeners[1].max_topic_alias, 10);
    conf_free(&c);
}

static void test_durations(void)
{
    static const struct { const char *v; long want; } ok[] = {
        { "30s", 30 }, { "1h", 3600 }, { "2d", 172800 }, { "3w", 1814400 },
        { "1m", 2592000 }, { "1y", 31536000 }
    };
    static const char *bad[] = { "5", "h", "0d", "-1d", "1x", "1.5h", "99999999999999y" };
    char line[64];

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct conf c;
        conf_init(&c);
        snprintf(line, sizeof(line), "persistent_client_expiration %s", ok[i].v);
        CU_ASSERT_EQUAL(conf_parse_line(&c, line, "d.conf", 7), ERR_OK);
        CU_ASSERT_EQUAL(c.persistent_client_expiration, ok[i].want);
        conf_free(&c);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct conf c;
        conf_init(&c);
        snprintf(line, sizeof(line), "persistent_client_expiration %s", bad[i]);
        CU_ASSERT_EQUAL(conf_parse_line(&c, line, "d.conf", 7), ERR_CONF);
        CU_ASSERT_STRING_EQUAL(conf_last_error(), "d.conf:7: Error: Invalid "
                               "'persistent_client_expiration' duration in configuration.");
        conf_free(&c);
    }
}

static void test_crlf_comments_whitespace(void)
{
    struct conf c;
    char path[64];
    const char *text = "# a comment\r\n"
                       "\r\n"
                       "   \r\n"
                       "  # an indented comment\n"
                       " listener 1883   \r\n"
                       "  max_connections  7 8 \r\n"
                       "password_file /etc/pass word\r\n"
                       "allow_anonymous true # trailing words after a value are a comment\r\n"
                       "log_type all";           /* no newline at the end */

    CU_ASSERT_EQUAL_FATAL(parse_text(&c, text, path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL_FATAL(c.listener_count, 1);
    CU_ASSERT_EQUAL(c.listeners[0].max_connections, 7);
    CU_ASSERT_EQUAL(c.listeners[0].line, 5);
    CU_ASSERT_STRING_EQUAL(c.sec.password_file, "/etc/pass word");
    CU_ASSERT_EQUAL(c.sec.allow_anonymous, 1);
    CU_ASSERT_EQUAL(c.log_type, LOG_T_ALL);
    conf_free(&c);
    /* a CRLF file still reports the right line */
    expect_error("listener 1883\r\n\r\nmax_qos 3\r\n", ERR_CONF, 3,
                 "Error: 'max_qos' must be between 0 and 2 inclusive.");
    /* 2.1.2 (and 2.0.11) separate words by spaces only: a tab is part of the word */
    expect_error("retain_available\ttrue\n", ERR_CONF, 1,
                 "Error: Unknown configuration variable 'retain_available\ttrue'.");
    expect_error("retain_available true\t\n", ERR_CONF, 1,
                 "Error: Invalid 'retain_available' value (true\t).");
}

static void test_errors_name_file_and_line(void)
{
    expect_error("# x\n\nfoo bar\n", ERR_CONF, 3, "Error: Unknown configuration variable 'foo'.");
    expect_error("Listener 1883\n", ERR_CONF, 1,
                 "Error: Unknown configuration variable 'Listener'.");
    expect_error("max_keepalive 70000\n", ERR_CONF, 1,
                 "Error: Invalid 'max_keepalive' value (70000).");
    expect_error("max_keepalive 6O\n", ERR_CONF, 1, "Error: 'max_keepalive' value not a number.");
    expect_error("allow_anonymous yes\n", ERR_CONF, 1, "Error: Invalid 'allow_anonymous' value (yes).");
    expect_error("\nallow_anonymous\n", ERR_CONF, 2,
                 "Error: Empty 'allow_anonymous' value in configuration.");
    expect_error("password_file\n", ERR_CONF, 1, "Error: Empty 'password_file' value in configuration.");
    expect_error("auto_id_prefix 012345678901234567890123456789012345678901234567890\n", ERR_CONF,
                 1, "Error: auto_id_prefix length must be <= 50.");
    expect_error("listener\n", ERR_CONF, 1,
                 "Error: Empty 'listener port' value in configuration.");
    expect_error("listener x\n", ERR_CONF, 1, "Error: 'listener port' value not a number.");
    expect_error("port x\n", ERR_CONF, 1, "Error: 'port' value not a number.");
    expect_error("bind_address\n", ERR_CONF, 1,
                 "Error: Empty 'default listener bind_address' value in configuration.");
    expect_error("max_inflight_messages 65536\n", ERR_CONF, 1,
                 "Error: 'max_inflight_messages' must be <= 65535.");
    expect_error("listener 1883\nmax_topic_alias 65536\n", ERR_CONF, 2,
                 "Error: Invalid 'max_topic_alias' value in configuration.");
    expect_error("listener 65536\n", ERR_CONF, 1, "Error: Invalid 'port' value (65536).");
    expect_error("listener 0\n", ERR_CONF, 1,
                 "Error: A listener with port 0 must provide a Unix socket path.");
    expect_error("port 0\n", ERR_CONF, 1, "Error: Invalid 'port' value (0).");
    expect_error("socket_domain ipv5\n", ERR_CONF, 1,
                 "Error: Invalid 'socket_domain' value 'ipv5' in configuration.");
    expect_error("protocol mqttsn\n", ERR_CONF, 1, "Error: Invalid 'protocol' value (mqttsn).");
    expect_error("log_dest pigeon\n", ERR_CONF, 1, "Error: Invalid 'log_dest' value (pigeon).");
    expect_error("log_dest file\n", ERR_CONF, 1,
                 "Error: Empty \"log_dest file\" value in configuration.");
    expect_error("log_dest file /a\nlog_dest file /b\n", ERR_CONF, 2,
                 "Error: Duplicate \"log_dest file\" value.");
    expect_error("log_type loud\n", ERR_CONF, 1, "Error: Invalid 'log_type' value (loud).");
    expect_error("log_facility 8\n", ERR_CONF, 1, "Error: Invalid 'log_facility' value (8).");
    expect_error("max_packet_size 19\n", ERR_CONF, 1, "Error: 'max_packet_size' must be >= 20.");
    expect_error("message_size_limit 268435456\n", ERR_CONF, 1,
                 "Error: Invalid 'message_size_limit' value (268435456).");
    expect_error("listener 1883\nmount_point a/#\n", ERR_CONF, 2,
                 "Error: Invalid 'mount_point' value (a/#). Does it contain a wildcard character?");
    expect_error("mount_point a/\n", ERR_CONF, 1,
                 "Error: The 'mount_point' option requires a listener to be defined first.");
    expect_error("allow_anonymous true\nper_listener_settings true\n", ERR_CONF, 2,
                 "Error: per_listener_settings must be set before any other security settings.");
    expect_error("per_listener_settings true\nallow_anonymous true\n", ERR_CONF, 2,
                 "Error: The 'allow_anonymous' option requires a listener to be defined first.");
    expect_error("listener 1883\nlistener 1883\n", ERR_CONF, 2,
                 "Error: Duplicate listener on port 1883 (first at %1$s:1).");
}

static void test_not_supported(void)
{
    /* Bridge TLS is built; only OCSP checking is not. */
    expect_valid("connection b1\naddress h\ntopic #\nbridge_cafile /ca.pem\n"
                 "bridge_certfile /c.pem\nbridge_keyfile /k.pem\n");
    expect_invalid("connection b1\naddress h\ntopic #\nbridge_cafile /ca.pem\n"
                   "bridge_require_ocsp true\n", ERR_NOT_SUPPORTED,
                   ":1: Error: Bridge 'b1': bridge_require_ocsp is not supported by this build");
    expect_error("\nretained_persistence true\n", ERR_NOT_SUPPORTED, 2,
                 "Error: Option 'retained_persistence' is not supported by this build.");
    expect_error("plugin_opt_db x\n", ERR_NOT_SUPPORTED, 1,
                 "Error: Option 'plugin_opt_db' is not supported by this build.");
    expect_error("plugin_opt_ x\n", ERR_CONF, 1,
                 "Error: Unknown configuration variable 'plugin_opt_'.");
    expect_error("listener 1883\nprotocol http_api\n", ERR_NOT_SUPPORTED, 2,
                 "Error: Option 'protocol http_api' is not supported by this build.");
    expect_error("log_dest android\n", ERR_NOT_SUPPORTED, 1,
                 "Error: Option 'log_dest android' is not supported by this build.");
    /* spelling out what the broker does anyway is fine */
    expect_valid("persistence false\nautosave_interval 60\nmemory_limit 0\nmptcp false\n"
                 "global_max_clients -1\nenable_control_api false\ntls_keyform pem\n"
                 "retry_interval 20\ndhparamfile /x\n");
    expect_valid("listener 9001\nprotocol websockets\n");   /* built with libwebsockets */
    /* TLS: files are read at start-up (test_tls.py); the combinations are checked here, with
     * Mosquitto 2.1.2's wording (its answers recorded beside each). */
    expect_valid("listener 8883\ncertfile /c.pem\nkeyfile /k.pem\ncafile /ca.pem\n"
                 "require_certificate true\nuse_identity_as_username true\ncrlfile /crl.pem\n"
                 "ciphers HIGH\nciphers_tls1.3 TLS_AES_128_GCM_SHA256\ntls_version tlsv1.3\n"
                 "disable_client_cert_date_checks true\ntls_keyform pem\n");
    expect_valid("psk_file /psk\nlistener 8884\npsk_hint hint\n");
    /* 2.1.2: "Error: Both certfile and keyfile must be provided to enable a TLS listener." */
    expect_invalid("listener 8883\ncertfile /c.pem\n", ERR_CONF,
                   ":1: Error: Both certfile and keyfile must be provided to enable a TLS listener.");
    expect_invalid("listener 8883\nkeyfile /k.pem\n", ERR_CONF,
                   "Error: Both certfile and keyfile must be provided to enable a TLS listener.");
    /* 2.1.2: "Error: cafile specified without certfile and keyfile." */
    expect_invalid("listener 8883\ncafile /ca.pem\n", ERR_CONF,
                   "Error: cafile specified without certfile and keyfile.");
    /* 2.1.2: "Error: Unsupported tls_version "tlsv9"." (at start-up, without a location) */
    expect_invalid("listener 8883\ncertfile /c.pem\nkeyfile /k.pem\ntls_version tlsv9\n",
                   ERR_CONF, "Error: Unsupported tls_version \"tlsv9\".");
    /* ...and ignores it on a plain listener (config/tls-version-on-plain-listener) */
    {
        struct conf c;
        char path[64];
        CU_ASSERT_EQUAL(parse_text(&c, "listener 1883\ntls_version tlsv9\n", path, sizeof(path)),
                        ERR_OK);
        CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
        conf_free(&c);
    }
    /* 2.1.2 tries to load the engine ("Error loading foo engine"); we have none */
    expect_invalid("listener 8883\ncertfile /c.pem\nkeyfile /k.pem\ntls_engine foo\n",
                   ERR_NOT_SUPPORTED, "Error: tls_engine is not supported by this build");
    expect_invalid("listener 8883\ncertfile /c.pem\nkeyfile /k.pem\ntls_keyform engine\n",
                   ERR_NOT_SUPPORTED, "Error: tls_keyform engine is not supported by this build");
}

/* Builds "listener 1883\n" + lines, for the PROXY combinations. */
static void proxy_invalid(const char *lines, const char *want)
{
    char text[512];

    snprintf(text, sizeof(text), "listener 1883\n%s", lines);
    expect_invalid(text, ERR_CONF, want);
}

static void test_proxy_options(void)
{
    struct conf c;
    char path[64];

    expect_error("enable_proxy_protocol 2\n", ERR_CONF, 1,
                 "Error: The 'enable_proxy_protocol' option requires a listener to be defined first.");
    expect_error("port 1883\nproxy_protocol_v2_require_tls true\n", ERR_CONF, 2, "Error: The "
                 "'proxy_protocol_v2_require_tls' option requires a listener to be defined first.");
    expect_error("enable_proxy_protocol_v2 true\n", ERR_CONF, 1, "Error: The "
                 "'enable_proxy_protocol_v2' option requires a listener to be defined first.");
    expect_error("proxy_protocol_timeout 5\n", ERR_CONF, 1, "Error: The "
                 "'proxy_protocol_timeout' option requires a listener to be defined first.");
    expect_error("proxy_protocol_allow_from ::1\n", ERR_CONF, 1, "Error: The "
                 "'proxy_protocol_allow_from' option requires a listener to be defined first.");
    expect_error("listener 1883\nenable_proxy_protocol 0\n", ERR_CONF, 2,
                 "Error: enable_proxy_protocol must be 1 or 2.");
    expect_error("listener 1883\nenable_proxy_protocol 3\n", ERR_CONF, 2,
                 "Error: enable_proxy_protocol must be 1 or 2.");
    expect_error("listener 1883\nenable_proxy_protocol two\n", ERR_CONF, 2,
                 "Error: 'enable_proxy_protocol' value not a number.");
    expect_error("listener 1883\nproxy_protocol_timeout 0\n", ERR_CONF, 2,
                 "Error: Invalid 'proxy_protocol_timeout' value (0).");
    expect_error("listener 1883\nproxy_protocol_allow_from 10.0.0.0/33\n", ERR_CONF, 2,
                 "Error: Invalid 'proxy_protocol_allow_from' value (10.0.0.0/33).");
    expect_error("listener 1883\nproxy_protocol_allow_from host.example\n", ERR_CONF, 2,
                 "Error: Invalid 'proxy_protocol_allow_from' value (host.example).");

    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "listener 1883\nenable_proxy_protocol_v2 true\n"
                                         "listener 1884\nenable_proxy_protocol 2\n"
                                         "enable_proxy_protocol_v2 false\n", path, sizeof(path)),
                          ERR_OK);
    CU_ASSERT_EQUAL(c.listeners[0].proxy_version, 2);
    CU_ASSERT_EQUAL(c.listeners[1].proxy_version, 0);
    conf_free(&c);
}

static void test_proxy_combinations(void)
{
    proxy_invalid("enable_proxy_protocol 2\nuse_subject_as_username true\n",
                  ":1: Error: use_subject_as_username cannot be used with `enable_proxy_protocol 2`.");
    /* PROXY then TLS (2.1.2 refuses: "Error: certfile and keyfile cannot be used with
     * `enable_proxy_protocol 2`."): ours reads the header, then runs its own handshake. */
    expect_valid("listener 1883\nenable_proxy_protocol 2\ncertfile /c.pem\nkeyfile /k.pem\n"
                 "require_certificate true\nuse_identity_as_username true\n");
    expect_valid("listener 1883\nenable_proxy_protocol 1\ncertfile /c.pem\nkeyfile /k.pem\n"
                 "cafile /ca.pem\nrequire_certificate true\nuse_subject_as_username true\n");
    proxy_invalid("enable_proxy_protocol 2\nkeyfile /k.pem\n",
                  "Error: Both certfile and keyfile must be provided to enable a TLS listener.");
    proxy_invalid("enable_proxy_protocol 2\ncafile /ca.pem\n",
                  "Error: cafile specified without certfile and keyfile.");
    proxy_invalid("enable_proxy_protocol 2\nuse_identity_as_username true\n",
                  "Error: use_identity_as_username requires require_certificate with "
                  "`enable_proxy_protocol 2`.");
    proxy_invalid("enable_proxy_protocol 1\ncertfile /c.pem\n",
                  "Error: Both certfile and keyfile must be provided to enable a TLS listener.");
    proxy_invalid("enable_proxy_protocol 1\nuse_subject_as_username true\n",
                  "Error: use_subject_as_username cannot be used with `enable_proxy_protocol 1`.");
    proxy_invalid("enable_proxy_protocol 1\nrequire_certificate true\n",
                  "Error: require_certificate cannot be used with `enable_proxy_protocol 1`");
    proxy_invalid("enable_proxy_protocol 1\nuse_identity_as_username true\n",
                  "Error: use_identity_as_username cannot be used with `enable_proxy_protocol 1`");
    proxy_invalid("enable_proxy_protocol 1\nproxy_protocol_v2_require_tls true\n",
                  "Error: proxy_protocol_v2_require_tls cannot be used with "
                  "`enable_proxy_protocol 1`");
    /* the supported PROXY v2 TLS settings, and warnings only for options without PROXY */
    expect_valid("listener 1883\nenable_proxy_protocol 2\nproxy_protocol_v2_require_tls true\n"
                 "require_certificate true\nuse_identity_as_username true\n");
    expect_valid("listener 1883\nproxy_protocol_v2_require_tls true\n");
    expect_valid("listener 1883\nproxy_protocol_allow_from 127.0.0.1\n");
}

static void test_proxy_allow_from(void)
{
    struct conf c;
    char path[64];
    struct sockaddr_in v4 = { .sin_family = AF_INET };
    struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
    struct sockaddr_un unix_peer = { .sun_family = AF_UNIX };

    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "listener 1883\nenable_proxy_protocol 2\n"
                                         "proxy_protocol_allow_from 10.1.2.3/8 192.168.1.7\n"
                                         "proxy_protocol_allow_from 2001:db8::1/33\n"
                                         "listener 1884\nenable_proxy_protocol 1\n",
                                     path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL_FATAL(c.listeners[0].proxy_allow_count, 3);
    CU_ASSERT_EQUAL(c.listeners[0].proxy_allow[0].prefix, 8);
    CU_ASSERT_EQUAL(c.listeners[0].proxy_allow[1].prefix, 32);
    CU_ASSERT_EQUAL(c.listeners[0].proxy_allow[2].prefix, 33);
    inet_pton(AF_INET, "10.200.0.1", &v4.sin_addr);
    CU_ASSERT_TRUE(proxy_allowed(&c.listeners[0], (struct sockaddr *)&v4));
    inet_pton(AF_INET, "11.0.0.1", &v4.sin_addr);
    CU_ASSERT_FALSE(proxy_allowed(&c.listeners[0], (struct sockaddr *)&v4));
    inet_pton(AF_INET, "192.168.1.7", &v4.sin_addr);
    CU_ASSERT_TRUE(proxy_allowed(&c.listeners[0], (struct sockaddr *)&v4));
    inet_pton(AF_INET, "192.168.1.8", &v4.sin_addr);
    CU_ASSERT_FALSE(proxy_allowed(&c.listeners[0], (struct sockaddr *)&v4));
    inet_pton(AF_INET6, "::ffff:10.9.9.9", &v6.sin6_addr);
    CU_ASSERT_TRUE(proxy_allowed(&c.listeners[0], (struct sockaddr *)&v6));
    inet_pton(AF_INET6, "2001:db8:7fff::5", &v6.sin6_addr);
    CU_ASSERT_TRUE(proxy_allowed(&c.listeners[0], (struct sockaddr *)&v6));
    inet_pton(AF_INET6, "2001:db8:8000::5", &v6.sin6_addr);
    CU_ASSERT_FALSE(proxy_allowed(&c.listeners[0], (struct sockaddr *)&v6));
    CU_ASSERT_FALSE(proxy_allowed(&c.listeners[0], (struct sockaddr *)&unix_peer));
    /* no list: anyone */
    CU_ASSERT_TRUE(proxy_allowed(&c.listeners[1], (struct sockaddr *)&v6));
    conf_free(&c);
}

static void test_include_dir(void)
{
    static const char *names[] = { "b.conf", "A.conf", "01.conf", "a.conf", "B.conf", "00.conf" };
    static const int ports[] = { 1006, 1003, 1002, 1004, 1005, 1001 };  /* = load order */
    char dir[64], main_path[64], text[256], body[256];
    struct conf c;

    CU_ASSERT_FATAL(mkdtemp(strcpy(dir, "/tmp/test_conf_inc_XXXXXX")) != NULL);
    for (size_t i = 0; i < 6; i++) {
        snprintf(body, sizeof(body), "listener %d\n", ports[i]);
        write_file(dir, names[i], body);
    }
    write_file(dir, "ignored.txt", "garbage\n");
    write_file(dir, ".conf", "garbage\n");
    snprintf(text, sizeof(text), "# main\ninclude_dir %s\nmax_qos 1\n", dir);
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, text, main_path, sizeof(main_path)), ERR_OK);
    CU_ASSERT_EQUAL_FATAL(c.listener_count, 6);
    for (size_t i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(c.listeners[i].port, 1001 + (int)i);
    /* an included file does not leave its listener current in the main file */
    CU_ASSERT_EQUAL(c.listeners[5].max_qos, 2);
    CU_ASSERT_EQUAL(c.default_listener.max_qos, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.listeners[0].file, "/00.conf"));
    conf_free(&c);

    /* an error inside an included file names that file and its line */
    write_file(dir, "c.conf", "\nbogus 1\n");
    snprintf(text, sizeof(text), "include_dir %s\n", dir);
    CU_ASSERT_EQUAL(parse_text(&c, text, main_path, sizeof(main_path)), ERR_CONF);
    snprintf(body, sizeof(body), "%s/c.conf:2: Error: Unknown", dir);
    CU_ASSERT_PTR_NOT_NULL(strstr(conf_last_error(), body));
    conf_free(&c);

    /* include_dir is only valid in the main file */
    snprintf(text, sizeof(text), "include_dir %s\n", dir);
    write_file(dir, "c.conf", text);
    CU_ASSERT_EQUAL(parse_text(&c, text, main_path, sizeof(main_path)), ERR_CONF);
    snprintf(body, sizeof(body), "%s/c.conf:1: Error: The include_dir", dir);
    CU_ASSERT_PTR_NOT_NULL(strstr(conf_last_error(), body));
    conf_free(&c);

    for (size_t i = 0; i < 6; i++) {
        snprintf(text, sizeof(text), "%s/%s", dir, names[i]);
        unlink(text);
    }
    snprintf(text, sizeof(text), "%s/ignored.txt", dir);
    unlink(text);
    snprintf(text, sizeof(text), "%s/.conf", dir);
    unlink(text);
    snprintf(text, sizeof(text), "%s/c.conf", dir);
    unlink(text);
    CU_ASSERT_EQUAL(rmdir(dir), 0);

    /* the directory is gone now: unreadable */
    snprintf(text, sizeof(text), "\ninclude_dir %s\n", dir);
    snprintf(body, sizeof(body), "Error: Unable to open include_dir '%s'.", dir);
    CU_ASSERT_EQUAL(parse_text(&c, text, main_path, sizeof(main_path)), ERR_CONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(conf_last_error(), ":2: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(conf_last_error(), body));
    conf_free(&c);
}

static void test_missing_file(void)
{
    struct conf c;

    conf_init(&c);
    CU_ASSERT_EQUAL(conf_parse_file(&c, "/nonexistent/mosquitto.conf"), ERR_CONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(conf_last_error(),
                                  "Error: Unable to open config file '/nonexistent/mosquitto.conf'"));
    CU_ASSERT_EQUAL(conf_parse_file(&c, "/tmp"), ERR_CONF);
    CU_ASSERT_STRING_EQUAL(conf_last_error(), "Error: Config file '/tmp' is a directory.");
    conf_free(&c);
}

static void test_default_listener_and_anonymous(void)
{
    struct conf c;
    char path[64];

    /* nothing configured: local only, anonymous allowed, default listener settings kept */
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "max_connections 3\n", path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
    CU_ASSERT_TRUE(c.local_only);
    CU_ASSERT_EQUAL(c.listener_count, 0);
    CU_ASSERT_EQUAL(c.default_listener.max_connections, 3);
    CU_ASSERT_EQUAL(conf_security(&c, &c.default_listener)->allow_anonymous, 1);
    conf_free(&c);

    /* a listener: anonymous refused unless asked for */
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "listener 1883\n", path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
    CU_ASSERT_FALSE(c.local_only);
    CU_ASSERT_EQUAL(conf_security(&c, &c.listeners[0])->allow_anonymous, 0);
    CU_ASSERT_PTR_EQUAL(conf_security(&c, &c.listeners[0]), &c.sec);
    conf_free(&c);
    /* -p ports (main.c adds them as listeners) keep Mosquitto's local-only default */
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "", path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(conf_parse_line(&c, "listener 1884", "command line", 0), ERR_OK);
    c.listeners_from_cmdline = true;
    CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
    CU_ASSERT_EQUAL(c.sec.allow_anonymous, 1);
    conf_free(&c);
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "allow_anonymous false\n", path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
    CU_ASSERT_EQUAL(c.sec.allow_anonymous, 0);
    conf_free(&c);

    /* port + options before it: the default listener starts, first in the list */
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "max_connections 3\nport 1884\nbind_address ::1\n"
                                         "listener 1885\nmax_connections 4\n", path,
                                     sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
    CU_ASSERT_FALSE(c.local_only);
    CU_ASSERT_EQUAL_FATAL(c.listener_count, 2);
    CU_ASSERT_EQUAL(c.listeners[0].port, 1884);
    CU_ASSERT_STRING_EQUAL(c.listeners[0].host, "::1");
    CU_ASSERT_EQUAL(c.listeners[0].max_connections, 3);
    CU_ASSERT_EQUAL(c.listeners[0].line, 2);
    CU_ASSERT_EQUAL(c.listeners[1].port, 1885);
    CU_ASSERT_EQUAL(c.listeners[1].max_connections, 4);
    conf_free(&c);

    /* bind_address alone: port 1883; same as an explicit listener = duplicate */
    expect_invalid("bind_address 127.0.0.1\nlistener 1883 127.0.0.1\n", ERR_CONF,
                   ":1: Error: Duplicate listener on port 1883 address 127.0.0.1 (first at ");

    /* local-only with per_listener_settings: the default listener's own settings say yes */
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "per_listener_settings true\n", path, sizeof(path)),
                          ERR_OK);
    CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
    CU_ASSERT_PTR_EQUAL(conf_security(&c, &c.default_listener), &c.default_listener.sec);
    CU_ASSERT_EQUAL(conf_security(&c, &c.default_listener)->allow_anonymous, 1);
    conf_free(&c);

    /* per_listener_settings: each listener has its own security, defaults inherited */
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "per_listener_settings true\nauto_id_prefix g-\n"
                                         , path, sizeof(path)), ERR_CONF);
    conf_free(&c);
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "per_listener_settings true\nclientid_prefixes p-\n"
                                         "listener 1883\nallow_anonymous true\n"
                                         "password_file /pw\nlistener 1884\n", path,
                                     sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
    CU_ASSERT_PTR_EQUAL(conf_security(&c, &c.listeners[0]), &c.listeners[0].sec);
    CU_ASSERT_EQUAL(conf_security(&c, &c.listeners[0])->allow_anonymous, 1);
    CU_ASSERT_STRING_EQUAL(conf_security(&c, &c.listeners[0])->password_file, "/pw");
    CU_ASSERT_EQUAL(conf_security(&c, &c.listeners[1])->allow_anonymous, 0);
    CU_ASSERT_PTR_NULL(conf_security(&c, &c.listeners[1])->password_file);
    CU_ASSERT_STRING_EQUAL(conf_security(&c, &c.listeners[1])->auto_id_prefix, "auto-");
    CU_ASSERT_STRING_EQUAL(conf_security(&c, &c.listeners[1])->clientid_prefixes[0], "p-");
    CU_ASSERT_PTR_NULL(c.sec.password_file);
    conf_free(&c);
}

static void test_logging_options(void)
{
    struct conf c;
    char path[64];

    conf_init(&c);
    CU_ASSERT_EQUAL(c.log_dest, LOG_D_STDERR);
    CU_ASSERT_EQUAL(c.log_type, LOG_T_ERR | LOG_T_WARNING | LOG_T_NOTICE | LOG_T_INFO);
    conf_free(&c);
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "log_dest syslog\nlog_dest file /var/log/m.log\n"
                                         "log_dest stdout unbuffered\nlog_type error\n"
                                         "log_type subscribe\n", path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(c.log_dest, LOG_D_SYSLOG | LOG_D_FILE | LOG_D_STDOUT);
    CU_ASSERT_STRING_EQUAL(c.log_file, "/var/log/m.log");
    CU_ASSERT_EQUAL(c.log_type, LOG_T_ERR | LOG_T_SUBSCRIBE);
    conf_free(&c);
    CU_ASSERT_EQUAL_FATAL(parse_text(&c, "log_dest stdout\nlog_dest none\nlog_type all\n"
                                         "log_type none\n", path, sizeof(path)), ERR_OK);
    CU_ASSERT_EQUAL(c.log_dest, LOG_D_NONE);
    CU_ASSERT_EQUAL(c.log_type, LOG_T_NONE);
    conf_free(&c);
}

static void test_example_config(void)
{
    struct conf c;

    conf_init(&c);
    CU_ASSERT_EQUAL(conf_parse_file(&c, VECTOR_DIR "/../../mosquitto.conf"), ERR_OK);
    CU_ASSERT_EQUAL(conf_validate(&c), ERR_OK);
    CU_ASSERT_TRUE(c.local_only);
    CU_ASSERT_EQUAL(c.sec.allow_anonymous, 1);
    conf_free(&c);
}

void unit_register(void)
{
    static const struct unit_test tests[] = {
        { "every keyword parses a valid value", test_every_keyword },
        { "values land in their fields", test_values_land },
        { "durations", test_durations },
        { "CRLF, comments, whitespace", test_crlf_comments_whitespace },
        { "errors name file and line", test_errors_name_file_and_line },
        { "not supported by this build", test_not_supported },
        { "PROXY options", test_proxy_options },
        { "PROXY combinations", test_proxy_combinations },
        { "PROXY allow list", test_proxy_allow_from },
        { "include_dir", test_include_dir },
        { "missing file", test_missing_file },
        { "default listener, allow_anonymous", test_default_listener_and_anonymous },
        { "log_dest, log_type", test_logging_options },
        { "example mosquitto.conf", test_example_config },
        { NULL, NULL }
    };
    unit_suite("conf", tests);
}
