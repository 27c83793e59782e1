/* main.c - command line, start-up (config, logging, listeners, privileges), the loop's timers
 * and signal handles, reload on SIGHUP, and a clean shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "auth.h"
#include "bridge.h"
#include "broker.h"
#include "conf.h"
#include "err.h"
#include "hmap.h"
#include "packet.h"
#include "persist.h"
#include "log.h"
#include "notify.h"
#include "retain.h"
#include "subs.h"
#include "tls.h"
#include "ws.h"

#define EXIT_CONFIG 3 /* Mosquitto's exit code for bad usage or configuration */
#define TICK_MS 250

struct broker broker;

static uv_timer_t tick_timer;
static uv_check_t flush_check;
/* Every signal the broker handles; SIGRTMIN is not a constant, so it is added at start-up. */
static int handled_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, 0 };
static uv_signal_t signal_handles[sizeof(handled_signals) / sizeof(handled_signals[0])];
static int64_t next_sys_ms, next_expiry_ms;

/* Who the broker runs as after start-up; resolved once, before any file is created, so that the
 * log and pid files can be given to that user while the broker is still root. */
static struct {
    bool drop;                 /* false: not root, or `user root` / empty */
    bool fallback;             /* the configured user does not exist: nobody */
    uid_t uid;
    gid_t gid;
    char name[64];
} run_as;

/* -d: write end of the pipe to the waiting parent; -1 once told, or without -d. */
static int daemon_fd = -1;

int64_t now_ms(void)
{
    return (int64_t)(uv_hrtime() / 1000000u);
}

static void usage(void)
{
    printf("mosquitto version %s\n\n"
           "mosquitto is an MQTT v5.0/v3.1.1/v3.1 broker.\n\n"
           "Usage: mosquitto [-c config_file] [-d] [-h] [-p port] [-v]\n"
           "                 [--tls-keylog file]\n\n"
           " -c : specify the broker config file.\n"
           " -d : put the broker into the background after starting.\n"
           " -h : display this help.\n"
           " -p : start the broker listening on the specified port.\n"
           "      Not recommended in conjunction with the -c option.\n"
           " -q : quiet mode - disable all logging types. This overrides\n"
           "      any logging options given in the config file, and -v.\n"
           " -v : verbose mode - enable all logging types. This overrides\n"
           "      any logging options given in the config file.\n"
           " --test-config : test config file and exit\n"
           " --tls-keylog : log TLS connection information to a file, to allow\n"
           "      debugging with e.g. wireshark. Do not use on a production\n"
           "      server.\n\n"
           "See https://mosquitto.org/ for more information.\n",
           VERSION);
}

/* Each -c is read in turn, as 2.1.2 does: a second file adds to the first. */
#define MAX_CONFIGS 16

struct args {
    const char *configs[MAX_CONFIGS];
    int nconfigs;
    const char *tls_keylog;        /* --tls-keylog FILE */
    bool daemon, verbose, quiet, test_config;
    const char *ports[16];
    int nports;
};

/* The configuration files, as SIGHUP reads them again (absolute with -d). */
static struct args reload_args;

static int parse_args(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-c") == 0 || strcmp(s, "--config-file") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "Error: -c argument given, but no config file specified.\n\n");
                return -1;
            }
            if (a->nconfigs == MAX_CONFIGS) {
                fprintf(stderr, "Error: Too many -c options.\n\n");
                return -1;
            }
            a->configs[a->nconfigs++] = argv[i];
        } else if (strcmp(s, "-d") == 0 || strcmp(s, "--daemon") == 0) {
            a->daemon = true;
        } else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            usage();
            return 1;
        } else if (strcmp(s, "-p") == 0 || strcmp(s, "--port") == 0) {
            char *end;
            long port;
            if (++i >= argc) {
                fprintf(stderr, "Error: -p argument given, but no port specified.\n\n");
                return -1;
            }
            port = strtol(argv[i], &end, 10);
            if (*end != '\0' || port < 1 || port > 65535) {
                /* 2.1.2's wording shows the number it read: 0 for "abc". */
                fprintf(stderr, "Error: Invalid port specified (%ld).\n\n", port);
                return -1;
            }
            if (a->nports == (int)(sizeof(a->ports) / sizeof(a->ports[0]))) {
                fprintf(stderr, "Error: Too many -p options.\n\n");
                return -1;
            }
            a->ports[a->nports++] = argv[i];
        } else if (strcmp(s, "-q") == 0 || strcmp(s, "--quiet") == 0) {
            a->quiet = true;
        } else if (strcmp(s, "-v") == 0 || strcmp(s, "--verbose") == 0) {
            a->verbose = true;
        } else if (strcmp(s, "--tls-keylog") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "Error: --tls-keylog argument given, but no file specified.\n\n");
                return -1;
            }
            a->tls_keylog = argv[i];
        } else if (strcmp(s, "--test-config") == 0) {
            a->test_config = true;
        } else if (strcmp(s, "--version") == 0) {
            /* 2.1.2's first line, which version checks read; the rest is about this code. */
            printf("mosquitto %s\n"
                   "mosquitto-proxy: a Mosquitto-compatible broker with PROXY protocol support.\n"
                   "License EPL-2.0 OR BSD-3-Clause.\n", VERSION);
            return 1;
        } else {
            fprintf(stderr, "Error: Unknown option '%s'.\n", s);
            usage();
            return -1;
        }
    }
    return 0;
}

static int load_config(struct conf *c, const struct args *a)
{
    conf_init(c);
    c->abs_paths = a->daemon;
    for (int i = 0; i < a->nconfigs; i++)
        if (conf_parse_file(c, a->configs[i]) != 0)
            return -1;
    if (a->nports > 0 && c->listener_count == 0 && !conf_default_listener_used(c)) {
        /* -p only counts when the configuration defines no listener (Mosquitto 2.1.2, which
         * ignores -p silently otherwise): it replaces the local-only port 1883. */
        for (int i = 0; i < a->nports; i++) {
            char line[64];
            snprintf(line, sizeof(line), "listener %s localhost", a->ports[i]);
            if (conf_parse_line(c, line, "command line", 0) != 0)
                return -1;
            c->listeners[c->listener_count - 1].loopback = true;
        }
        c->listeners_from_cmdline = true;
    } else if (a->nports > 0 && conf_default_listener_port_set(c)) {
        /* 2.1.2 applies -p to the default listener first; the file's `port` then wins. */
        log_warn("Warning: Default listener port specified multiple times. Only the latest will "
                 "be used.");
    } else if (a->nports > 0 && conf_default_listener_used(c)) {
        c->default_listener.port = (uint16_t)atoi(a->ports[a->nports - 1]);
    }
    c->daemon = c->daemon || a->daemon;
    c->verbose = a->verbose && !a->quiet;
    c->quiet = a->quiet;
    if (c->verbose)
        c->log_dest |= LOG_D_STDERR;
    return conf_validate(c) == 0 ? 0 : -1;
}

/* log_dest topic: each line also goes to $SYS/broker/log/<letter>, as Mosquitto does. */
static void log_to_topic(unsigned type, const char *line)
{
    const char *t;

    switch (type) {
    case LOG_T_ERR: t = "$SYS/broker/log/E"; break;
    case LOG_T_WARNING: t = "$SYS/broker/log/W"; break;
    case LOG_T_NOTICE: t = "$SYS/broker/log/N"; break;
    case LOG_T_INFO: t = "$SYS/broker/log/I"; break;
    case LOG_T_DEBUG: t = "$SYS/broker/log/D"; break;
    case LOG_T_SUBSCRIBE: t = "$SYS/broker/log/M/subscribe"; break;
    case LOG_T_UNSUBSCRIBE: t = "$SYS/broker/log/M/unsubscribe"; break;
    default: t = "$SYS/broker/log/I"; break;
    }
    if (broker.subs != NULL && !broker.shutting_down)
        sys_publish_str(t, line, false);
}

static void on_check(uv_check_t *h)
{
    (void)h;
    persist_flush(); /* the loop iteration's journal records: one write */
    client_flush_all();
}

static void on_tick(uv_timer_t *h)
{
    int64_t now = now_ms();

    (void)h;
    client_check_timeouts(now);
    bridge_tick(now);
    will_tick(now);
    persist_tick(now);
    if (now >= next_expiry_ms) {
        session_check_expiry(now);
        next_expiry_ms = now + 1000;
    }
    if (broker.conf->sys_interval > 0 && now >= next_sys_ms) {
        sys_tick();
        next_sys_ms = now + (int64_t)broker.conf->sys_interval * 1000;
    }
    client_flush_all(); /* output made by timers must not wait for the next I/O event */
}

/* After a reload, every client must still be let in by the password file and
 * allow_anonymous as they now stand, as 2.1.2 checks: a removed user or a changed password
 * ends the connection ("disconnected.", acl/password/sighup-*). Certificate identities and
 * bridges are not password-file matters. */
static void recheck_clients(void)
{
    struct client *next;

    for (struct client *c = broker.clients; c != NULL; c = next) {
        const struct listener_conf *lc = c->listener->conf;
        const struct security_conf *sec = conf_security(broker.conf, lc);
        bool anon = lc->allow_anonymous >= 0 ? lc->allow_anonymous > 0 : sec->allow_anonymous > 0;
        const struct auth *a = *c->listener->auth;
        bool ok;

        next = c->next;
        if (c->stage != STAGE_MQTT || c->bridge != NULL || c->identity)
            continue;
        if (c->auth_hash != NULL)
            ok = auth_recheck(a, c->username, c->password, &c->auth_hash);
        else if (c->username != NULL && auth_has_users(a))
            ok = false; /* it gave no password that this file could have checked */
        else
            ok = anon;
        if (!ok)
            client_close(c, "");
    }
}

static void reload(void)
{
    struct conf *fresh = calloc(1, sizeof(*fresh));
    struct args a = { .nconfigs = reload_args.nconfigs };
    struct auth *na;

    memcpy(a.configs, reload_args.configs, sizeof(a.configs));
    notify_reloading();
    log_notice("Reloading config.");
    if (fresh == NULL) {
        notify_ready();
        return;
    }
    /* Only what Mosquitto reloads: logging, password and ACL files. Listeners stay. */
    if (load_config(fresh, &a) != 0) {
        /* The error lines said it all; the old configuration stays, as with 2.1.2, which adds
         * nothing after them (signals/HUP-with-broken-config). */
        conf_free(fresh);
        free(fresh);
        notify_ready();
        return;
    }
    na = auth_load(conf_security(fresh, NULL));
    if (na == NULL) {
        log_err("Error: Unable to reload password or ACL file, keeping the old ones.");
    } else {
        auth_free(broker.auth);
        broker.auth = na;
        /* allow_anonymous goes with the files it decides together with (2.1.2 reloads it) */
        broker.conf->sec.allow_anonymous = fresh->sec.allow_anonymous;
        /* The files named in the running config are what gets reloaded. */
    }
    for (size_t i = 0; i < broker.nlisteners; i++) {
        struct listener *l = &broker.listeners[i];
        if (l->own_auth != NULL) {
            struct auth *la = auth_load(conf_security(broker.conf, l->conf));
            if (la != NULL) {
                auth_free(l->own_auth);
                l->own_auth = la;
            }
        }
    }
    recheck_clients();
    tls_reload(); /* certificates renewed in place (Let's Encrypt): new connections use them */
    broker.conf->log_dest = fresh->log_dest;
    broker.conf->log_type = fresh->log_type;
    broker.conf->log_timestamp = fresh->log_timestamp;
    broker.conf->connection_messages = fresh->connection_messages;
    log_reopen(broker.conf);
    bridge_reload(fresh); /* takes the bridge sections it uses out of fresh */
    conf_free(fresh);
    free(fresh);
    notify_ready();
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    if (signum == SIGHUP) {
        reload();
        return;
    }
    if (signum == SIGRTMIN) {
        /* logrotate's postrotate: the file was moved away, write to a fresh one. */
        log_reopen(broker.conf);
        return;
    }
    if (signum == SIGUSR1) {
        persist_snapshot("SIGUSR1"); /* Mosquitto's "save the database now" */
        return;
    }
    /* SIGUSR2 (2.1.2: a debug dump of the subscription tree) is caught so that it does not end
     * the broker, as the default action would; 2.1.2 logs nothing for it. */
    if (signum == SIGINT || signum == SIGTERM) {
        notify_stopping();
        log_notice("mosquitto version %s terminating", VERSION);
        broker.shutting_down = true;
        uv_stop(broker.loop);
    }
}

/* Fills run_as from the `user` option (default mosquitto; nobody when it does not exist), as
 * Mosquitto does. Returns -1 when neither user exists. */
static int resolve_user(const struct conf *c)
{
    struct passwd *pw;

    run_as.drop = false;
    if (geteuid() != 0 || c->user == NULL || c->user[0] == '\0' || strcmp(c->user, "root") == 0)
        return 0;
    pw = getpwnam(c->user);
    run_as.fallback = pw == NULL;
    if (pw == NULL && (pw = getpwnam("nobody")) == NULL)
        return -1;
    run_as.drop = true;
    run_as.uid = pw->pw_uid;
    run_as.gid = pw->pw_gid;
    snprintf(run_as.name, sizeof(run_as.name), "%s", pw->pw_name);
    return 0;
}

static int drop_privileges(const struct conf *c)
{
    if (!run_as.drop)
        return 0;
    if (run_as.fallback)
        log_warn("Warning: Unable to drop privileges to '%s' because this user does not exist. "
                 "Trying 'nobody' instead.", c->user);
    if (initgroups(run_as.name, run_as.gid) == -1 || setgid(run_as.gid) == -1 ||
        setuid(run_as.uid) == -1) {
        log_err("Error: Unable to drop privileges to '%s': %s.", run_as.name, strerror(errno));
        return -1;
    }
    return 0;
}

/* Written while still root and given to the run-as user (as both references leave it: 0644,
 * owned by that user), so the broker can remove it at exit. Written to a temporary name and
 * renamed, so a reader never sees it empty or still root's. */
static int write_pid_file(const char *path)
{
    char tmp[PATH_MAX];
    char text[32];
    int len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
    int fd = -1;

    if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        goto fail;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd == -1)
        goto fail;
    if (run_as.drop && fchown(fd, run_as.uid, run_as.gid) == -1)
        goto fail;
    if (write(fd, text, (size_t)len) != len || close(fd) == -1) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) == -1)
        goto fail;
    return 0;
fail:
    log_err("Error: Unable to write pid file %s: %s.", path, strerror(errno));
    if (fd != -1)
        close(fd);
    unlink(tmp);
    return -1;
}

/* -d: forks; the parent waits on a pipe and exits with the child's verdict: 0 once the child
 * says it serves, else the child's exit code (1 if it vanished without one) and a line on
 * stderr. Both references' parent always exits 0, and, like theirs, our daemon writes nothing
 * to the terminal (its stdio is /dev/null from the fork on; errors go to the log file). */
static int daemonize(void)
{
    int fds[2];
    int null;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) == -1)
        return -1;
    pid = fork();
    if (pid == -1)
        return -1;
    if (pid > 0) {
        char verdict;
        ssize_t n;
        int status, code = 1;

        close(fds[1]);
        do
            n = read(fds[0], &verdict, 1);
        while (n == -1 && errno == EINTR);
        if (n == 1)
            _exit(0);
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
            code = WEXITSTATUS(status);
        fprintf(stderr, "Error: The broker did not start in the background (exit code %d); "
                        "see its log.\n", code);
        _exit(code);
    }
    close(fds[0]);
    daemon_fd = fds[1];
    if (setsid() == -1 || chdir("/") == -1)
        return -1;
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null != -1) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        close(null);
    }
    return 0;
}

/* Tells the -d parent that the broker serves. */
static void daemon_ready(void)
{
    ssize_t n;

    if (daemon_fd == -1)
        return;
    n = write(daemon_fd, "", 1); /* fails only if the parent is gone: nobody to tell */
    (void)n;
    close(daemon_fd);
    daemon_fd = -1;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void shutdown_broker(void)
{
    /* Closed without the clients' DISCONNECT, so their wills go out (MQTT [MQTT-3.1.2-8]), as
     * Mosquitto 2.1.2 and 2.0.11 do; with persistence, before the final snapshot keeps what they
     * queued. A v5 will delay makes it a delayed will, kept in the store (will.c). */
    while (broker.clients != NULL) {
        struct client *c = broker.clients;
        if (c->version == MQTT_V5 && c->stage == STAGE_MQTT)
            mqtt_encode_disconnect(&c->out, MQTT_V5, RC_SERVER_SHUTTING_DOWN, NULL);
        client_close(c, NULL);
    }
    listener_close_all();
    bridge_stop_all();
    ws_shutdown(); /* before close_walk: libwebsockets closes its own handles on our loop */
    uv_walk(broker.loop, close_walk, NULL);
    uv_run(broker.loop, UV_RUN_DEFAULT); /* let close callbacks free the clients */
    uv_loop_close(broker.loop);
    persist_snapshot("shutdown");
    persist_close();
    session_free_all();
    bridge_free_all();
    will_free_all();
    deliver_free();
    tls_cleanup();
    listener_free_all();
    retain_free(broker.retain);
    subs_free(broker.subs);
    hmap_free(broker.sessions);
    auth_free(broker.auth);
}

int main(int argc, char **argv)
{
    static struct conf conf;
    struct args a = { 0 };
    int rc = parse_args(argc, argv, &a);

    if (rc != 0)
        return rc > 0 ? 0 : EXIT_CONFIG; /* -h, --version: done */
    broker.conf = &conf;
    reload_args.nconfigs = a.nconfigs;
    for (int i = 0; i < a.nconfigs; i++) {
        /* The reload after the daemon's chdir("/") must find the same files. */
        static char abs_config[MAX_CONFIGS][PATH_MAX];
        reload_args.configs[i] = a.configs[i];
        if (a.daemon && realpath(a.configs[i], abs_config[i]) != NULL)
            reload_args.configs[i] = abs_config[i];
    }
    broker.conf_path = a.nconfigs > 0 ? reload_args.configs[a.nconfigs - 1] : NULL;
    if (load_config(&conf, &a) != 0) {
        conf_free(&conf);
        return EXIT_CONFIG;
    }
    if (a.test_config) {
        /* 2.1.2's lines: on the log (stderr), and a file is required. */
        if (a.nconfigs == 0)
            log_err("Please provide a configuration file to test.");
        else
            log_notice("Configuration file is OK.");
        log_notice("mosquitto version %s terminating", VERSION);
        conf_free(&conf);
        return a.nconfigs == 0 ? EXIT_CONFIG : 0;
    }
    if (resolve_user(&conf) != 0) {
        fprintf(stderr, "Error: Unable to drop privileges to 'nobody'.\n");
        return 1;
    }
    if (conf.daemon && daemonize() == -1) {
        fprintf(stderr, "Error: Unable to fork: %s.\n", strerror(errno));
        return 1;
    }
    if (run_as.drop)
        log_set_owner(run_as.uid, run_as.gid);
    if (log_open(&conf) != 0)
        return 1;
    log_notice("mosquitto version %s starting", VERSION);
    if (a.nconfigs > 0)
        log_notice("Config loaded from %s.", a.configs[a.nconfigs - 1]);
    else
        log_notice("Using default config.");

    broker.loop = uv_default_loop();
    log_topic_hook = log_to_topic;
    broker.start_ms = now_ms();
    broker.start_time = time(NULL);
    broker.sessions = hmap_new();
    broker.subs = subs_new();
    broker.retain = retain_new();
    if (broker.sessions == NULL || broker.subs == NULL || broker.retain == NULL)
        return 1;
    if ((broker.auth = auth_load(conf_security(&conf, NULL))) == NULL)
        return auth_load_exit_code(); /* 2.1.2's: 13 for a missing file, 3 for a bad line */
    /* Signals first: a SIGTERM sent as soon as the port answers must already mean a clean
     * shutdown, not the default action. */
    signal(SIGPIPE, SIG_IGN); /* a peer that vanished is an EPIPE, not a crash */
    handled_signals[sizeof(handled_signals) / sizeof(handled_signals[0]) - 1] = SIGRTMIN;
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++) {
        uv_signal_init(broker.loop, &signal_handles[i]);
        uv_signal_start(&signal_handles[i], on_signal, handled_signals[i]);
    }
    if (a.tls_keylog != NULL && tls_set_keylog(a.tls_keylog) != 0)
        return 1;
    /* Before the listeners: whoever sees the port open finds the pid file too. */
    if (conf.pid_file != NULL && write_pid_file(conf.pid_file) != 0)
        return 1;
    if (listener_open_all() != 0 || ws_init() != 0 || drop_privileges(&conf) != 0 ||
        persist_init() != 0)
        goto start_failed;

    uv_check_init(broker.loop, &flush_check);
    uv_check_start(&flush_check, on_check);
    uv_timer_init(broker.loop, &tick_timer);
    uv_timer_start(&tick_timer, on_tick, TICK_MS, TICK_MS);
    sys_init();
    next_sys_ms = now_ms() + (int64_t)conf.sys_interval * 1000;
    if (bridge_start_all() != 0 || notify_watchdog_start(broker.loop) != 0)
        goto start_failed;
    log_notice("mosquitto version %s running", VERSION);
    notify_ready();
    daemon_ready();

    uv_run(broker.loop, UV_RUN_DEFAULT);

    shutdown_broker();
    if (conf.pid_file != NULL)
        unlink(conf.pid_file);
    log_close();
    conf_free(&conf);
    return 0;

start_failed:
    if (conf.pid_file != NULL)
        unlink(conf.pid_file); /* a pid file must not outlive the process it names */
    return 1;
}
