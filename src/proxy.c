/* proxy.c - the PROXY stage of a connection: runs the pure decoders (proxy_v1.c, proxy_v2.c) on
 * the bytes read so far, applies the listener's policy (who may send a header, require_tls,
 * require_certificate, the CN), takes the real client address, and logs the outcome. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "broker.h"
#include "log.h"
#include "proxy_decode.h"
#include "tls.h"

#define CONNECT_TIMEOUT_MS 30000
/* After a LOCAL header, CONNECT must start within this window, or the connection was a plain
 * layer-4 check and is closed silently (well under HAProxy's default 2 s check interval). */
#define PROXY_LOCAL_WINDOW_MS 1000

int proxy_on_accept(struct client *c, const struct sockaddr *peer)
{
    const struct listener_conf *lc = c->listener->conf;

    /* A unix-socket listener cannot have a list (conf_validate() refuses it), so its peers
     * never reach a refusal here. */
    if (proxy_allowed(lc, peer))
        return 0;
    broker.stats.proxy_not_allowed++;
    log_notice("Connection from %s:%u rejected, not allowed to send a PROXY header "
               "(proxy_protocol_allow_from).", c->address, c->port);
    client_close(c, NULL);
    return -1;
}

static void take_address(struct client *c, const struct proxy_info *info)
{
    if (!info->has_addr)
        return; /* UNKNOWN: the socket's own address is all there is */
    if (info->src.ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)&info->src;
        client_set_address_str(c, un->sun_path, strnlen(un->sun_path, sizeof(un->sun_path)), 0);
    } else {
        client_set_address(c, (const struct sockaddr *)&info->src);
    }
    c->proxied = true;
}

static char *str_dup(struct proxy_str s)
{
    char *p = malloc(s.len + 1u);

    if (p != NULL) {
        memcpy(p, s.p, s.len);
        p[s.len] = '\0';
    }
    return p;
}

/* Header decoded: policy checks in the order Mosquitto applies them. Returns -1 if closed. */
static int apply(struct client *c, const struct proxy_info *info)
{
    const struct listener_conf *lc = c->listener->conf;

    take_address(c, info);
    if (c->listener->tls_ctx != NULL) {
        /* PROXY then TLS: the header gave the address; every TLS fact (require_certificate,
         * the identity) comes from our own handshake, which starts now on the rest of the
         * stream. The header's SSL TLVs describe the proxy's side and are ignored. */
        broker.stats.proxy_accepted++;
        c->stage = STAGE_TLS;
        c->deadline = now_ms() + TLS_HANDSHAKE_TIMEOUT_MS;
        return 0;
    }
    /* TLS is what the client bit says, not the mere presence of an SSL TLV: HAProxy sends one
     * (client bits 0) for plaintext clients too. */
    c->proxy_tls = info->has_ssl && (info->ssl_client & PP2_CLIENT_SSL);
    c->proxy_cert = c->proxy_tls &&
                    (info->ssl_client & (PP2_CLIENT_CERT_CONN | PP2_CLIENT_CERT_SESS)) &&
                    info->ssl_verify == 0;
    if (lc->proxy_require_tls && !c->proxy_tls) {
        broker.stats.proxy_not_tls++;
        log_notice("Connection from %s:%u rejected, client did not connect using TLS.", c->address,
                   c->port);
        client_close(c, NULL);
        return -1;
    }
    if (lc->require_certificate && !c->proxy_cert) {
        broker.stats.proxy_no_cert++;
        log_notice("Connection from %s:%u rejected, client did not provide a certificate.",
                   c->address, c->port);
        client_close(c, NULL);
        return -1;
    }
    if (info->ssl_version.len > 0 && info->ssl_cipher.len > 0)
        log_info("Connection from %s:%u negotiated %.*s cipher %.*s", c->address, c->port,
                 (int)info->ssl_version.len, info->ssl_version.p, (int)info->ssl_cipher.len,
                 info->ssl_cipher.p);
    if (c->proxy_cert && info->ssl_cn.len > 0) {
        c->proxy_cn = str_dup(info->ssl_cn);
        if (c->proxy_cn == NULL) {
            client_close(c, "out of memory");
            return -1;
        }
    }
    broker.stats.proxy_accepted++;
    c->stage = STAGE_CONNECT;
    c->deadline = now_ms() + CONNECT_TIMEOUT_MS;
    /* No "New connection" line here, as upstream: "New client connected from" follows with
     * the real address once CONNECT arrives. */
    return 0;
}

/* PROXY v2 LOCAL: the proxy speaks for itself (a health check, HAProxy's `option mqtt-chk`
 * sends LOCAL then CONNECT). As the specification says, the connection is accepted with the
 * socket's own addresses and any address block is skipped (reference §9 decisions 7-8).
 * proxy_protocol_allow_from was already applied at accept. A LOCAL carries no TLS facts, so a
 * listener that requires TLS or a certificate closes it silently (as a plain layer-4 check
 * expects) rather than let it bypass the requirement. Returns -1 if closed. */
static int accept_local(struct client *c, size_t used)
{
    const struct listener_conf *lc = c->listener->conf;

    broker.stats.proxy_health++;
    buf_consume(&c->in, used);
    c->proxy_local = true;
    if (c->listener->tls_ctx != NULL) {
        /* PROXY then TLS: our own handshake supplies the TLS facts, LOCAL or not. */
        c->stage = STAGE_TLS;
        c->deadline = now_ms() + TLS_HANDSHAKE_TIMEOUT_MS;
        return 0;
    }
    if (lc->proxy_require_tls || lc->require_certificate) {
        client_close(c, NULL);
        return -1;
    }
    c->stage = STAGE_CONNECT;
    c->deadline = now_ms() + PROXY_LOCAL_WINDOW_MS;
    return 0;
}

/* How many bytes the PROXY stage may read next (0 = no limit). On a listener that also runs
 * TLS the stage must not read past the header, so the TLS handshake gets its bytes. */
size_t proxy_read_limit(struct client *c)
{
    const uint8_t *p = c->in.data;
    size_t have = c->in.len;
    uint8_t peek[PROXY_V1_MAX_LINE];
    ssize_t n;

    if (c->listener->tls_ctx == NULL)
        return 0; /* the MQTT stage takes leftovers from c->in */
    if (c->listener->conf->proxy_version == 2) {
        /* 16 fixed bytes, then exactly the length they declare */
        if (have < 16)
            return 16 - have;
        return 16u + (size_t)(p[14] << 8 | p[15]) - have;
    }
    /* v1 ends at the first LF: look without taking, then take up to it */
    if (have >= PROXY_V1_MAX_LINE)
        return 1; /* the decoder has already refused this */
    n = recv(c->x.fd, peek, PROXY_V1_MAX_LINE - have, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0)
        return 1; /* let the read report the end or the error */
    for (ssize_t i = 0; i < n; i++)
        if (peek[i] == '\n')
            return (size_t)i + 1;
    return (size_t)n;
}

int proxy_process(struct client *c)
{
    struct proxy_info info;
    const char *why = NULL;
    size_t used = 0;
    enum dec d;

    memset(&info, 0, sizeof(info));
    if (c->listener->conf->proxy_version == 1)
        d = proxy_v1_decode(c->in.data, c->in.len, &info, &used, &why);
    else
        d = proxy_v2_decode(c->in.data, c->in.len, &info, &used, &why);
    if (d == DEC_NEED_MORE)
        return 0;
    if (d == DEC_ERROR) {
        /* The header's own address is named when the decoder got that far (a bad TLV);
         * the proxy's address goes in a second line for whoever debugs the proxy. */
        char proxy_addr[INET6_ADDRSTRLEN + 8];
        uint16_t proxy_port = c->port;
        snprintf(proxy_addr, sizeof(proxy_addr), "%s", c->address);
        broker.stats.proxy_corrupt++;
        if (info.has_addr && info.src.ss_family != AF_UNIX) {
            take_address(c, &info);
            log_notice("Connection from %s:%u rejected, corrupt PROXY header.", c->address, c->port);
        } else {
            log_notice("Connection from <unknown> rejected, corrupt PROXY header.");
        }
        log_info("PROXY header from %s:%u rejected: %s.", proxy_addr, proxy_port,
                 why ? why : "invalid");
        client_close(c, NULL);
        return -1;
    }
    if (info.local)
        return accept_local(c, used);
    if (apply(c, &info) != 0)
        return -1;
    buf_consume(&c->in, used);
    return 0;
}

void proxy_closed(struct client *c)
{
    if (c->in.len > 0)
        log_notice("Client <unknown> [<unknown>] disconnected: connection closed by client "
                   "before the PROXY header was complete (from %s:%u).", c->address, c->port);
    client_close(c, NULL);
}

void proxy_timeout(struct client *c)
{
    broker.stats.proxy_timeouts++;
    log_notice("Connection from <unknown> rejected, no PROXY header within %d seconds "
               "(from %s:%u).", c->listener->conf->proxy_timeout, c->address, c->port);
    client_close(c, NULL);
}
