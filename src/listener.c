/* listener.c - listening sockets (TCP over IPv4/IPv6, unix) and accept. What happens to an
 * accepted connection is client.c's business. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth.h"
#include "broker.h"
#include "err.h"
#include "log.h"
#include "tls.h"

#define ACCEPT_BATCH 64 /* accepts per wake-up, so a connection storm cannot starve the rest */
/* After an accept error that would repeat at once (no descriptors, no memory), the listener is
 * not polled for a while: a level-triggered poll on a socket with a pending connection would
 * otherwise spin. The pause doubles on each failure up to the maximum, and ends early when a
 * descriptor is closed. */
#define ACCEPT_BACKOFF_MIN_MS 20
#define ACCEPT_BACKOFF_MAX_MS 1000

static struct listener_conf default_conf; /* loopback 1883 when nothing is configured */

static void on_accept(uv_poll_t *h, int status, int events);

static void on_retry(uv_timer_t *t)
{
    struct listener *l = t->data;

    uv_poll_start(&l->poll, UV_READABLE, on_accept);
}

/* Stops polling l for a growing interval; one log line per episode. An episode ends once the
 * pending connections are all accepted (accept says EAGAIN). */
static void back_off(struct listener *l, int err)
{
    if (l->backoff_ms == 0) {
        if (err == EMFILE || err == ENFILE) /* Mosquitto 2.1's wording */
            log_err("Unable to accept new connection, system socket count has been exceeded. "
                    "Try increasing \"ulimit -n\" or equivalent.");
        else
            log_err("Error: accept on %s failed: %s.", l->name, strerror(err));
        l->backoff_ms = ACCEPT_BACKOFF_MIN_MS;
    } else if (l->backoff_ms < ACCEPT_BACKOFF_MAX_MS) {
        l->backoff_ms = l->backoff_ms * 2 < ACCEPT_BACKOFF_MAX_MS ? l->backoff_ms * 2
                                                                   : ACCEPT_BACKOFF_MAX_MS;
    }
    l->failures++;
    uv_poll_stop(&l->poll);
    uv_timer_start(&l->retry, on_retry, l->backoff_ms, 0);
}

void listener_fd_freed(void)
{
    for (size_t i = 0; i < broker.nlisteners; i++) {
        struct listener *l = &broker.listeners[i];
        if (l->backoff_ms != 0 && uv_is_active((uv_handle_t *)&l->retry)) {
            uv_timer_stop(&l->retry);
            uv_poll_start(&l->poll, UV_READABLE, on_accept);
        }
    }
}

static void on_accept(uv_poll_t *h, int status, int events)
{
    struct listener *l = h->data;

    (void)events;
    if (status < 0) {
        back_off(l, -status);
        return;
    }
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                if (l->backoff_ms != 0)
                    log_debug("Accepting on %s again after %u failed attempts.", l->name,
                              l->failures);
                l->backoff_ms = 0;
                l->failures = 0;
            } else if (err != EINTR && err != ECONNABORTED && err != EPROTO) {
                back_off(l, err); /* EMFILE, ENFILE, ENOBUFS, ENOMEM: it would fail again */
            }
            return;
        }
        if ((l->conf->max_connections >= 0 && l->clients >= l->conf->max_connections) ||
            (broker.conf->global_max_connections >= 0 &&
             broker.nclients >= (size_t)broker.conf->global_max_connections)) {
            char host[INET6_ADDRSTRLEN] = "<unknown>";
            if (ss.ss_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
            else if (ss.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
            log_notice("Client connection from %s denied: max_connections exceeded.", host);
            close(fd);
            continue;
        }
        if (client_new(fd, l, (struct sockaddr *)&ss, len) == NULL)
            close(fd);
    }
}

static struct listener *add_listener(struct listener_conf *lc, int fd, const char *name)
{
    struct listener *ls = realloc(broker.listeners, (broker.nlisteners + 1) * sizeof(*ls));
    struct listener *l;

    if (ls == NULL)
        return NULL;
    broker.listeners = ls;
    l = &ls[broker.nlisteners++];
    memset(l, 0, sizeof(*l));
    l->conf = lc;
    l->fd = fd;
    snprintf(l->name, sizeof(l->name), "%s", name);
    return l;
}

static int open_unix(struct listener_conf *lc)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = -1;

    if (strlen(lc->unix_path) >= sizeof(sa.sun_path)) {
        log_err("Error: Unix socket path too long: %s.", lc->unix_path);
        return ERR_INVAL;
    }
    strcpy(sa.sun_path, lc->unix_path);
    log_notice("Opening unix listen socket on path %s.", lc->unix_path);
    unlink(lc->unix_path); /* a stale socket from an earlier run would make bind fail */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        goto fail;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
        goto fail;
    if (listen(fd, 512) == -1)
        goto fail;
    if (add_listener(lc, fd, lc->unix_path) == NULL)
        goto fail;
    return ERR_OK;
fail:
    log_err("Error: Unable to listen on unix socket %s: %s.", lc->unix_path, strerror(errno));
    if (fd != -1)
        close(fd);
    return ERR_SYS;
}

/* Opens lc's sockets on host (NULL: any address). optional: a host without such an address
 * family here (no IPv6) is skipped, not an error. */
static int open_tcp_host(struct listener_conf *lc, const char *host, bool optional)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL, *ai;
    char port[8];
    int rc, opened = 0;

    hints.ai_family = lc->socket_domain;
    snprintf(port, sizeof(port), "%u", lc->port);
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 && optional)
        return ERR_OK;
    if (rc != 0) {
        log_err("Error: Unable to resolve listener address %s: %s.", host ? host : "*",
                gai_strerror(rc));
        return ERR_SYS;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int fd, bound, one = 1;
        char name[160];

        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        log_notice("Opening %s listen socket on port %u.", ai->ai_family == AF_INET ? "ipv4" : "ipv6",
                   lc->port);
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd == -1 && optional && errno == EAFNOSUPPORT)
            continue;
        if (fd == -1)
            goto fail;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (lc->bind_interface != NULL &&
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, lc->bind_interface,
                       (socklen_t)strlen(lc->bind_interface)) == -1) {
            log_err("Error: Unable to bind to interface %s: %s.", lc->bind_interface, strerror(errno));
            close(fd);
            freeaddrinfo(res);
            return ERR_SYS;
        }
        bound = bind(fd, ai->ai_addr, ai->ai_addrlen);
        if (bound == -1 && optional && errno == EADDRNOTAVAIL) {
            close(fd);
            continue;
        }
        if (bound == -1 || listen(fd, 1024) == -1) {
            close(fd);
            goto fail;
        }
        snprintf(name, sizeof(name), "port %u", lc->port);
        if (add_listener(lc, fd, name) == NULL) {
            close(fd);
            goto fail;
        }
        opened++;
    }
    freeaddrinfo(res);
    return opened > 0 || optional ? ERR_OK : ERR_SYS;
fail:
    log_err("Error: %s.", strerror(errno));
    freeaddrinfo(res);
    return ERR_SYS;
}

static int open_tcp(struct listener_conf *lc)
{
    int rc;

    if (!lc->loopback)
        return open_tcp_host(lc, lc->host, false);
    /* Local-only mode: both loopback addresses, as 2.1.2 opens them, whether or not
     * /etc/hosts names ::1 "localhost"; a host without IPv6 keeps the IPv4 one. */
    if ((rc = open_tcp_host(lc, "127.0.0.1", false)) != ERR_OK)
        return rc;
    return open_tcp_host(lc, "::1", true);
}

int listener_open_all(void)
{
    struct conf *c = broker.conf;

    if (c->listener_count == 0 || c->listeners_from_cmdline) {
        /* Mosquitto 2's safe default: no listener configured means loopback only; -p ports
         * without a configured listener are the same mode on other ports. */
        log_notice("Starting in local only mode. Connections will only be possible from clients "
                   "running on this machine.");
        log_notice("Create a configuration file which defines a listener to allow remote access.");
        log_notice("For more details see https://mosquitto.org/documentation/authentication-methods/");
    }
    if (c->listener_count == 0) {
        default_conf = c->default_listener; /* options given before any listener line */
        default_conf.port = 1883;
        default_conf.host = "localhost";
        default_conf.loopback = true;
        default_conf.unix_path = NULL;
        if (open_tcp(&default_conf) != ERR_OK)
            return ERR_SYS;
    }
    for (size_t i = 0; i < c->listener_count; i++) {
        struct listener_conf *lc = &c->listeners[i];
        int rc = lc->unix_path != NULL ? open_unix(lc) : open_tcp(lc);
        if (rc != ERR_OK)
            return rc;
    }
    for (size_t i = 0; i < broker.nlisteners; i++) {
        struct listener *l = &broker.listeners[i];
        l->auth = &broker.auth;
        if (broker.conf->per_listener_settings) {
            l->own_auth = auth_load(conf_security(broker.conf, l->conf));
            if (l->own_auth == NULL)
                return ERR_CONF;
            l->auth = &l->own_auth;
        }
        if (tls_listener_init(l) != 0)
            return ERR_CONF;
        uv_poll_init(broker.loop, &l->poll, l->fd);
        l->poll.data = l;
        uv_timer_init(broker.loop, &l->retry);
        l->retry.data = l;
        uv_poll_start(&l->poll, UV_READABLE, on_accept);
    }
    return ERR_OK;
}

void listener_close_all(void)
{
    for (size_t i = 0; i < broker.nlisteners; i++) {
        struct listener *l = &broker.listeners[i];
        if (uv_is_active((uv_handle_t *)&l->poll) || l->poll.data != NULL) {
            uv_poll_stop(&l->poll);
            uv_close((uv_handle_t *)&l->poll, NULL);
            uv_close((uv_handle_t *)&l->retry, NULL);
        }
        close(l->fd);
        if (l->conf->unix_path != NULL)
            unlink(l->conf->unix_path);
    }
}

void listener_free_all(void)
{
    for (size_t i = 0; i < broker.nlisteners; i++)
        auth_free(broker.listeners[i].own_auth);
    free(broker.listeners);
    broker.listeners = NULL;
    broker.nlisteners = 0;
}
