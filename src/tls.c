/* tls.c - TLS through OpenSSL 3: the xprt_tls transport (non-blocking SSL_read/SSL_write on our
 * loop), listener contexts built from mosquitto.conf (certificates, CA, CRL, ciphers, versions,
 * PSK) and rebuilt on SIGHUP, the TLS stage of an accepted connection, and client contexts for
 * bridges. Knows nothing of MQTT: the identity it finds goes to handle_connect.c via the client.
 *
 * Choices: handshakes never block (want-read/want-write drive the poll handle, a deadline bounds
 * them); renegotiation is refused (SSL_OP_NO_RENEGOTIATION); idle connections give their record
 * buffers back (SSL_MODE_RELEASE_BUFFERS); resumption uses stateless tickets, no server cache. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "broker.h"
#include "log.h"
#include "tls.h"
#include "ws.h"

#define TLS_RECORD 16384              /* pack small iovecs up to one full record */
#define PSK_MAX 64                    /* bytes of a pre-shared key */
#define SESSION_CTX "mosquitto-pp"    /* resumption is only valid on our own listeners */

/* ---- the transport ---- */

/* A static reason for the last OpenSSL failure (OpenSSL's reason strings are static). */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

    return r != NULL ? r : "TLS error";
}

/* Maps an SSL_* failure to the xprt convention. */
static ssize_t ssl_fail(struct xprt *x, SSL *ssl, int ret)
{
    int e = SSL_get_error(ssl, ret);

    switch (e) {
    case SSL_ERROR_WANT_READ:
        x->want = XPRT_WANT_READ;
        return XPRT_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        x->want = XPRT_WANT_WRITE;
        return XPRT_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        x->why = NULL; /* errno says it; 0 with an empty queue is a bare EOF */
        if (ERR_peek_error() == 0 && errno == 0)
            return 0;
        ERR_clear_error();
        return XPRT_ERR;
    default:
        x->why = ssl_reason(); /* the queue stays for the log line; every call clears it first */
        return XPRT_ERR;
    }
}

static ssize_t tls_read(struct xprt *x, void *buf, size_t len)
{
    SSL *ssl = x->ctx;
    size_t n = 0;
    int ret;

    ERR_clear_error();
    errno = 0;
    ret = SSL_read_ex(ssl, buf, len, &n);
    if (ret == 1)
        return (ssize_t)n;
    return ssl_fail(x, ssl, ret);
}

static ssize_t tls_writev(struct xprt *x, const struct iovec *iov, int iovcnt)
{
    static unsigned char pack[TLS_RECORD];
    SSL *ssl = x->ctx;
    const void *p = iov[0].iov_base;
    size_t len = iov[0].iov_len, n = 0;
    int ret;

    if (iovcnt > 1 && len < TLS_RECORD) {
        /* Many small segments would make many small records: pack them. The packing is a
         * function of the bytes offered, so a retry after WANT_WRITE offers the same prefix
         * and at least the same length, as OpenSSL requires. */
        len = 0;
        for (int i = 0; i < iovcnt && len < TLS_RECORD; i++) {
            size_t take = iov[i].iov_len < TLS_RECORD - len ? iov[i].iov_len : TLS_RECORD - len;
            memcpy(pack + len, iov[i].iov_base, take);
            len += take;
        }
        p = pack;
    }
    if (len == 0)
        return 0;
    ERR_clear_error();
    errno = 0;
    ret = SSL_write_ex(ssl, p, len, &n);
    if (ret == 1)
        return (ssize_t)n;
    ssize_t r = ssl_fail(x, ssl, ret);
    return r == 0 ? XPRT_ERR : r; /* the peer closed: nothing more can be written */
}

static void tls_shutdown(struct xprt *x)
{
    SSL *ssl = x->ctx;

    if (ssl != NULL && SSL_is_init_finished(ssl)) {
        ERR_clear_error();
        (void)SSL_shutdown(ssl); /* one close_notify, no wait for the peer's */
        ERR_clear_error();
    }
    shutdown(x->fd, SHUT_RDWR);
}

static size_t tls_pending(const struct xprt *x)
{
    SSL *ssl = x->ctx;
    int n = SSL_pending(ssl);

    if (n > 0)
        return (size_t)n;
    return SSL_has_pending(ssl) ? 1 : 0; /* raw bytes read ahead, not yet decrypted */
}

static void tls_free(struct xprt *x)
{
    SSL_free(x->ctx);
    x->ctx = NULL;
}

static const struct xprt_ops xprt_tls_ops = {
    "tls", tls_read, tls_writev, tls_shutdown, tls_pending, tls_free,
};

enum xprt_hs xprt_handshake(struct xprt *x)
{
    SSL *ssl = x->ctx;
    int ret;

    ERR_clear_error();
    errno = 0;
    ret = SSL_do_handshake(ssl);
    if (ret == 1)
        return XPRT_HS_DONE;
    switch (ssl_fail(x, ssl, ret)) {
    case XPRT_AGAIN:
        return XPRT_HS_AGAIN;
    case 0:
        x->why = "connection closed during the TLS handshake";
        return XPRT_HS_ERROR;
    default:
        if (x->why == NULL)
            x->why = errno != 0 ? strerror(errno) : "connection closed during the TLS handshake";
        return XPRT_HS_ERROR;
    }
}

const char *xprt_tls_version(const struct xprt *x)
{
    return x->ops == &xprt_tls_ops ? SSL_get_version(x->ctx) : NULL;
}

const char *xprt_tls_cipher(const struct xprt *x)
{
    return x->ops == &xprt_tls_ops ? SSL_get_cipher_name((SSL *)x->ctx) : NULL;
}

/* Puts an SSL object for ctx on x (a connected or accepted socket). */
static SSL *xprt_tls_attach(struct xprt *x, SSL_CTX *ctx)
{
    SSL *ssl = SSL_new(ctx);

    if (ssl == NULL)
        return NULL;
    if (SSL_set_fd(ssl, x->fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    x->ops = &xprt_tls_ops;
    x->ctx = ssl;
    return ssl;
}

/* ---- shared context set-up ---- */

static BIO *keylog_bio;

static void keylog_cb(const SSL *ssl, const char *line)
{
    (void)ssl;
    if (keylog_bio != NULL) {
        BIO_printf(keylog_bio, "%s\n", line);
        (void)BIO_flush(keylog_bio);
    }
}

/* Only with --tls-keylog: once a callback is set, OpenSSL formats every secret of every
 * handshake as hex text through sprintf, 9 % of a resumed handshake's instructions. */
static void set_keylog(SSL_CTX *ctx)
{
    if (keylog_bio != NULL)
        SSL_CTX_set_keylog_callback(ctx, keylog_cb);
}

int tls_set_keylog(const char *path)
{
    BIO_free(keylog_bio);
    keylog_bio = BIO_new_file(path, "a");
    if (keylog_bio == NULL) {
        log_err("Error: Unable to open TLS key log file \"%s\": %s.", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Logs OpenSSL's queue as 2.1.2 does after a set-up failure, then clears it. */
static void log_openssl_errors(void)
{
    unsigned long e;
    int i = 0;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        log_err("OpenSSL Error [%d]: %s", i++, buf);
    }
}

/* tls_version is a minimum (mosquitto.conf(5)); unset = TLS 1.2 and up. */
static int min_version(const char *v)
{
    if (v == NULL || strcmp(v, "tlsv1.2") == 0)
        return TLS1_2_VERSION;
    if (strcmp(v, "tlsv1.3") == 0)
        return TLS1_3_VERSION;
    if (strcmp(v, "tlsv1.1") == 0)
        return TLS1_1_VERSION;
    return -1;
}

static bool ctx_common(SSL_CTX *ctx, const char *tls_version, const char *ciphers,
                       const char *ciphers13, const char *where)
{
    int v = min_version(tls_version);

    if (v < 0) {
        log_err("%sError: Unsupported tls_version \"%s\".", where, tls_version);
        return false;
    }
    SSL_CTX_set_min_proto_version(ctx, v);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (ciphers != NULL && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
        log_err("%sError: Unable to set TLS ciphers. Check cipher list \"%s\".", where, ciphers);
        ERR_clear_error();
        return false;
    }
    if (ciphers13 != NULL && SSL_CTX_set_ciphersuites(ctx, ciphers13) != 1) {
        log_err("%sError: Unable to set TLS 1.3 ciphersuites. Check cipher_tls13 list \"%s\".",
                where, ciphers13);
        ERR_clear_error();
        return false;
    }
    set_keylog(ctx);
    return true;
}

static bool load_cert_key(SSL_CTX *ctx, const char *certfile, const char *keyfile,
                          const char *where, const char *what)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1) {
        log_err("%sError: Unable to load %s certificate \"%s\". Check certfile.", where, what,
                certfile);
        log_openssl_errors();
        return false;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_err("%sError: Unable to load %s key file \"%s\". Check keyfile.", where, what,
                keyfile);
        log_openssl_errors();
        return false;
    }
    return true;
}

static bool load_ca(SSL_CTX *ctx, const char *cafile, const char *capath, const char *where)
{
    if ((cafile != NULL || capath != NULL) &&
        SSL_CTX_load_verify_locations(ctx, cafile, capath) != 1) {
        if (cafile != NULL)
            log_err("%sError: Unable to load CA certificates. Check cafile \"%s\".", where,
                    cafile);
        else
            log_err("%sError: Unable to load CA certificates. Check capath \"%s\".", where,
                    capath);
        log_openssl_errors();
        return false;
    }
    return true;
}

/* ---- PSK (psk_file: identity:hexkey lines; psk_hint on a listener) ---- */

struct psk {
    char *identity;
    unsigned char key[PSK_MAX];
    size_t len;
};

static struct {
    struct psk *v;
    size_t n;
} psks;

static void psk_free(struct psk *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].identity);
    free(v);
}

static bool hex_key(const char *s, unsigned char *out, size_t *len)
{
    size_t n = strlen(s);

    if (n == 0 || n % 2 != 0 || n / 2 > PSK_MAX)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        unsigned v;
        if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]) ||
            sscanf(s + i, "%2x", &v) != 1)
            return false;
        out[i / 2] = (unsigned char)v;
    }
    *len = n / 2;
    return true;
}

/* Reads psk_file into psks; keeps the old table on error. */
static int psk_load(const char *path)
{
    FILE *f;
    char line[1024];
    struct psk *v = NULL;
    size_t n = 0;
    int lineno = 0;

    if (path == NULL)
        return 0;
    f = fopen(path, "r");
    if (f == NULL) {
        log_err("Error: Unable to open psk_file \"%s\": %s.", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *colon, *end = line + strcspn(line, "\r\n");
        struct psk *nv;
        lineno++;
        *end = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        colon = strchr(line, ':');
        nv = realloc(v, (n + 1) * sizeof(*v));
        if (nv == NULL)
            goto fail;
        v = nv;
        if (colon == NULL || colon == line || !hex_key(colon + 1, v[n].key, &v[n].len)) {
            log_err("Error: Invalid line in psk_file \"%s\" at line %d.", path, lineno);
            goto fail;
        }
        *colon = '\0';
        v[n].identity = strdup(line);
        if (v[n].identity == NULL)
            goto fail;
        n++;
    }
    fclose(f);
    psk_free(psks.v, psks.n);
    psks.v = v;
    psks.n = n;
    return 0;
fail:
    fclose(f);
    psk_free(v, n);
    return -1;
}

static unsigned int psk_server_cb(SSL *ssl, const char *identity, unsigned char *psk,
                                  unsigned int max_len)
{
    (void)ssl;
    if (identity == NULL)
        return 0;
    for (size_t i = 0; i < psks.n; i++) {
        if (strcmp(psks.v[i].identity, identity) == 0 && psks.v[i].len <= max_len) {
            memcpy(psk, psks.v[i].key, psks.v[i].len);
            return (unsigned int)psks.v[i].len;
        }
    }
    return 0; /* unknown identity: the handshake fails */
}

/* ---- listener contexts ---- */

static int verify_ignore_dates(int ok, X509_STORE_CTX *store)
{
    int e = X509_STORE_CTX_get_error(store);

    if (!ok && (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID)) {
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1; /* disable_client_cert_date_checks */
    }
    return ok;
}

static bool load_crl(SSL_CTX *ctx, const char *crlfile, const char *where)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    FILE *probe = fopen(crlfile, "r");

    if (probe == NULL) {
        int e = errno;
        log_err("%sError: Unable to load certificate revocation file \"%s\". Check crlfile.",
                where, crlfile);
        log_err("Error: %s", strerror(e));
        return false;
    }
    fclose(probe);
    if (lookup == NULL || X509_load_crl_file(lookup, crlfile, X509_FILETYPE_PEM) < 1) {
        log_err("%sError: Unable to load certificate revocation file \"%s\". Check crlfile.",
                where, crlfile);
        log_openssl_errors();
        return false;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    return true;
}

bool tls_listener_conf(const struct listener_conf *lc)
{
    return lc->certfile != NULL || lc->psk_hint != NULL;
}

/* Builds a server context from lc, or NULL after logging why. */
static SSL_CTX *server_ctx(const struct listener_conf *lc)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    /* 2.1.2's lines as they are; the listener's place follows them ("Error found at"). */
    const char *where = "";

    if (ctx == NULL) {
        log_openssl_errors();
        return NULL;
    }
    if (!ctx_common(ctx, lc->tls_version, lc->ciphers, lc->ciphers_tls13, where))
        goto fail;
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)SESSION_CTX,
                                   sizeof(SESSION_CTX) - 1);
    /* Stateless tickets only: nothing per session kept here; one ticket is enough for a client
     * that reconnects. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_dh_auto(ctx, 1);
    if (lc->certfile != NULL && !load_cert_key(ctx, lc->certfile, lc->keyfile, where, "server"))
        goto fail;
    if (!load_ca(ctx, lc->cafile, lc->capath, where))
        goto fail;
    if (lc->crlfile != NULL && !load_crl(ctx, lc->crlfile, where))
        goto fail;
    if (lc->require_certificate)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           lc->disable_client_cert_date_checks ? verify_ignore_dates : NULL);
    if (lc->psk_hint != NULL) {
        SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
        if (SSL_CTX_use_psk_identity_hint(ctx, lc->psk_hint) != 1) {
            log_err("%sError: Unable to set TLS PSK hint.", where);
            goto fail;
        }
        if (lc->certfile == NULL) {
            /* No certificate to offer: only the PSK suites, on TLS 1.2, where the identity
             * callback applies (2.1.2 negotiates TLSv1.2 DHE-PSK-AES256-GCM-SHA384 too). */
            SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
            if (lc->ciphers == NULL)
                SSL_CTX_set_cipher_list(ctx, "PSK");
        }
    }
    return ctx;
fail:
    if (lc->file != NULL)
        log_err("Error found at %s:%d.", lc->file, lc->line);
    SSL_CTX_free(ctx);
    return NULL;
}

int tls_listener_init(struct listener *l)
{
    static bool psk_loaded;

    if (!tls_listener_conf(l->conf))
        return 0;
    if (!psk_loaded && broker.conf->psk_file != NULL) {
        if (psk_load(broker.conf->psk_file) != 0)
            return -1;
        psk_loaded = true;
    }
    for (size_t i = 0; i < broker.nlisteners; i++) {
        struct listener *o = &broker.listeners[i];
        if (o != l && o->conf == l->conf && o->tls_ctx != NULL) {
            /* the same listener line on another address family: share it, and its tickets */
            SSL_CTX_up_ref(o->tls_ctx);
            l->tls_ctx = o->tls_ctx;
            return 0;
        }
    }
    if (l->conf->tls_version != NULL && strcmp(l->conf->tls_version, "tlsv1.1") == 0)
        log_warn("Please be aware that support for TLS v1.1 will go away eventually and that you "
                 "should plan now to migrate away from it."); /* 2.1.2's line, at start-up */
    l->tls_ctx = server_ctx(l->conf);
    return l->tls_ctx != NULL ? 0 : -1;
}

void tls_reload(void)
{
    if (broker.conf->psk_file != NULL)
        (void)psk_load(broker.conf->psk_file); /* logs and keeps the old table on error */
    for (size_t i = 0; i < broker.nlisteners; i++) {
        struct listener *l = &broker.listeners[i];
        SSL_CTX *fresh;
        bool shared = false;
        if (l->tls_ctx == NULL)
            continue;
        for (size_t j = 0; j < i; j++) {
            if (broker.listeners[j].conf == l->conf && broker.listeners[j].tls_ctx != NULL) {
                SSL_CTX_up_ref(broker.listeners[j].tls_ctx);
                SSL_CTX_free(l->tls_ctx);
                l->tls_ctx = broker.listeners[j].tls_ctx;
                shared = true;
                break;
            }
        }
        if (shared)
            continue;
        fresh = server_ctx(l->conf);
        if (fresh == NULL) {
            log_err("Error: Unable to reload TLS certificates for %s, keeping the old ones.",
                    l->name);
            continue;
        }
        SSL_CTX_free(l->tls_ctx); /* connections made with it hold their own reference */
        l->tls_ctx = fresh;
    }
}

void tls_cleanup(void)
{
    for (size_t i = 0; i < broker.nlisteners; i++) {
        SSL_CTX_free(broker.listeners[i].tls_ctx);
        broker.listeners[i].tls_ctx = NULL;
    }
    psk_free(psks.v, psks.n);
    psks.v = NULL;
    psks.n = 0;
    BIO_free(keylog_bio);
    keylog_bio = NULL;
}

/* ---- the TLS stage of an accepted connection ---- */

static char *name_cn(X509_NAME *name)
{
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    char *s;
    int n;

    if (i < 0)
        return NULL;
    n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n < 0)
        return NULL;
    s = strndup((const char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
    return s;
}

/* The subject in RFC 2253 order and escaping, which is the text Mosquitto uses as username
 * (2.1.2 answers u'CN=subject-client,OU=Testing,O=Mosquitto Project,L=Derby,ST=Derbyshire,C=GB'
 * for /C=GB/ST=Derbyshire/L=Derby/O=Mosquitto Project/OU=Testing/CN=subject-client). */
static char *name_text(X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *s = NULL;
    long n;

    if (b == NULL)
        return NULL;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_get_mem_data(b, &data);
        if (n >= 0)
            s = strndup(data, (size_t)n);
    }
    BIO_free(b);
    return s;
}

/* Handshake done: the identity the listener asks for, in c->proxy_cn. */
static bool take_identity(struct client *c, SSL *ssl)
{
    const struct listener_conf *lc = c->listener->conf;
    const char *psk_id = SSL_get_psk_identity(ssl);
    X509 *peer = SSL_get0_peer_certificate(ssl);

    free(c->proxy_cn);
    c->proxy_cn = NULL;
    if (psk_id != NULL && peer == NULL) {
        if (!lc->use_identity_as_username)
            return true;
        c->proxy_cn = strdup(psk_id);
    } else if (peer != NULL && lc->use_subject_as_username) {
        c->proxy_cn = name_text(X509_get_subject_name(peer));
    } else if (peer != NULL && lc->use_identity_as_username) {
        c->proxy_cn = name_cn(X509_get_subject_name(peer));
    } else {
        return true;
    }
    c->identity = c->proxy_cn != NULL; /* none (no CN, no memory): CONNECT is refused */
    return true;
}

/* True if b can start a plaintext HTTP request ("GET ", "POST", "PUT ", "HEAD"): a websocket
 * client without TLS. OpenSSL calls such input "http request", and so does 2.1.2's log. */
static bool http_start(int b)
{
    return b == 'G' || b == 'P' || b == 'H';
}

/* 2.1.2's lines for a failed handshake: OpenSSL's reasons, then the client's disconnection as a
 * protocol error, with its address standing in for the client id it never sent. first is the
 * first byte of a stream refused before OpenSSL saw it, else -1. */
static void log_handshake_failure(struct client *c, SSL *ssl, const char *why, int first)
{
    unsigned long e;
    int i = 0;
    char buf[256];
    long verify = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        log_err("OpenSSL Error while trying to get the error[%d]: %s", i++, buf);
    }
    if (i == 0 && why != NULL)
        log_err("OpenSSL Error while trying to get the error[0]: %s", why);
    /* Ours, beyond 2.1.2: say what was wrong in words a user can act on. */
    if (c->bridge != NULL) {
        /* Our bridge is the TLS client: the remote broker's certificate (CA, host name,
         * dates) or the remote's alert is at fault. 2.1.2 names no address: "[(null):0]". */
        if (verify != X509_V_OK)
            log_notice("Bridge %s: certificate of the remote broker %s:%u rejected: %s.",
                       client_name(c), c->address, c->port, X509_verify_cert_error_string(verify));
        client_close(c, "Protocol error");
        return;
    }
    if (first == 0x10)
        log_info("Client %s:%u sent plaintext MQTT (CONNECT) to a TLS listener.", c->address,
                 c->port);
    else if (http_start(first))
        log_info("Client %s:%u sent plaintext HTTP (a websocket without TLS?) to a TLS listener.",
                 c->address, c->port);
    else if (verify != X509_V_OK)
        log_info("Client certificate from %s:%u rejected: %s.", c->address, c->port,
                 X509_verify_cert_error_string(verify));
    if (broker.conf->connection_messages)
        log_notice("Client %s [%s:%u] disconnected: Protocol error.", c->address, c->address,
                   c->port);
}

/* The first byte waiting on the socket; -1 if none yet, -2 at its end or on an error. A TLS
 * handshake starts with a handshake record (0x16); an MQTT CONNECT with 0x10. */
static int first_byte(int fd)
{
    unsigned char b;
    ssize_t n;

    do
        n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    while (n == -1 && errno == EINTR);
    if (n == 1)
        return b;
    return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : -2;
}

int tls_stage(struct client *c)
{
    SSL *ssl = c->x.ops == &xprt_tls_ops ? c->x.ctx : NULL;

    if (ssl == NULL) {
        int b = first_byte(c->x.fd);
        if (b == -1)
            return 0;
        if (b == -2) {
            /* gone before saying anything: 2.1.2 logs this as a protocol error too */
            if (broker.conf->connection_messages)
                log_notice("Client %s [%s:%u] disconnected: Protocol error.", c->address,
                           c->address, c->port);
            client_close(c, NULL);
            return -1;
        }
        if (b != 0x16) {
            /* Not a TLS record: refused before any OpenSSL object exists, so a flood of
             * garbage or plaintext costs a peek, not an SSL_new(). The wording is OpenSSL's
             * for such input. */
            ERR_clear_error();
            ERR_raise(ERR_LIB_SSL, http_start(b) ? SSL_R_HTTP_REQUEST : SSL_R_WRONG_VERSION_NUMBER);
            log_handshake_failure(c, NULL, NULL, b);
            client_close(c, NULL);
            return -1;
        }
        if ((ssl = xprt_tls_attach(&c->x, c->listener->tls_ctx)) == NULL) {
            client_close(c, "out of memory");
            return -1;
        }
        SSL_set_accept_state(ssl);
    }
    switch (xprt_handshake(&c->x)) {
    case XPRT_HS_AGAIN:
        c->read_wants_write = c->x.want == XPRT_WANT_WRITE;
        return 0;
    case XPRT_HS_ERROR:
        log_handshake_failure(c, ssl, c->x.why, -1);
        if (!c->closing)
            client_close(c, NULL);
        return -1;
    case XPRT_HS_DONE:
        break;
    }
    c->read_wants_write = false;
    if (c->bridge != NULL) {
        c->stage = STAGE_CONNECT; /* the caller sends our CONNECT */
        return 0;
    }
    if (!take_identity(c, ssl)) {
        client_close(c, "out of memory");
        return -1;
    }
    c->stage = STAGE_CONNECT;
    c->deadline = now_ms() + 30000; /* CONNECT must follow, as on plain TCP */
    return 0;
}

void tls_timeout(struct client *c)
{
    /* An outgoing bridge connection has its local id; an accepted one only its address. */
    log_notice("Client %s [%s:%u] disconnected: TLS handshake not complete within %d seconds.",
               c->bridge != NULL ? client_name(c) : c->address, c->address, c->port,
               TLS_HANDSHAKE_TIMEOUT_MS / 1000);
    client_close(c, NULL);
}

void tls_log_negotiated(const struct client *c)
{
    const char *version = xprt_tls_version(&c->x), *cipher = xprt_tls_cipher(&c->x);

    if (version == NULL && !ws_tls_negotiated(c, &version, &cipher))
        return;
    if (broker.conf->connection_messages)
        log_notice("Client %s negotiated %s cipher %s", client_name(c), version, cipher);
}

/* ---- outgoing (bridge) contexts ---- */

struct client_extra {
    char *psk_identity;
    unsigned char psk[PSK_MAX];
    size_t psk_len;
    bool insecure;
};

static int extra_index = -1;

static void extra_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                       void *argp)
{
    struct client_extra *ex = ptr;

    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (ex != NULL) {
        free(ex->psk_identity);
        OPENSSL_cleanse(ex->psk, sizeof(ex->psk));
        free(ex);
    }
}

static unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity,
                                  unsigned int max_identity_len, unsigned char *psk,
                                  unsigned int max_psk_len)
{
    struct client_extra *ex = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), extra_index);

    (void)hint;
    if (ex == NULL || ex->psk_identity == NULL || strlen(ex->psk_identity) >= max_identity_len ||
        ex->psk_len > max_psk_len)
        return 0;
    strcpy(identity, ex->psk_identity);
    memcpy(psk, ex->psk, ex->psk_len);
    return (unsigned int)ex->psk_len;
}

/* "mqtt" -> "\x04mqtt": ALPN's wire form. */
static bool set_alpn(SSL_CTX *ctx, const char *alpn)
{
    unsigned char wire[256];
    size_t n = strlen(alpn);

    if (n == 0 || n > 255)
        return false;
    wire[0] = (unsigned char)n;
    memcpy(wire + 1, alpn, n);
    return SSL_CTX_set_alpn_protos(ctx, wire, (unsigned int)n + 1) == 0;
}

/* One failed step of a bridge's context: 2.1.2's "Error: ..." line, then OpenSSL's queue as
 * "OpenSSL Error while trying to <what>[i]: ..." (what may be NULL: no queue lines). */
static void client_ctx_error(const char *what, const char *fmt, const char *arg)
{
    unsigned long e;
    int i = 0;
    char buf[256];

    log_err(fmt, arg);
    while (what != NULL && (e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        log_err("OpenSSL Error while trying to %s[%d]: %s", what, i++, buf);
    }
    ERR_clear_error();
}

struct ssl_ctx_st *tls_client_ctx_new(const struct tls_client_opts *o)
{
    SSL_CTX *ctx;
    struct client_extra *ex;
    int v = min_version(o->tls_version);

    ERR_clear_error();
    if (v < 0) {
        client_ctx_error(NULL, "Error: Protocol %s not supported.", o->tls_version);
        return NULL;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    ex = calloc(1, sizeof(*ex));
    if (extra_index < 0)
        extra_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, extra_free);
    if (ctx == NULL || ex == NULL || extra_index < 0) {
        client_ctx_error(NULL, "Error: Out of memory%s.", "");
        SSL_CTX_free(ctx);
        free(ex);
        return NULL;
    }
    SSL_CTX_set_ex_data(ctx, extra_index, ex); /* freed with ctx from here on */
    ex->insecure = o->insecure;
    SSL_CTX_set_min_proto_version(ctx, v);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    set_keylog(ctx);
    if (o->ciphers != NULL && SSL_CTX_set_cipher_list(ctx, o->ciphers) != 1) {
        client_ctx_error("set the ciphers", "Error: Unable to set TLS ciphers. Check cipher list "
                         "\"%s\".", o->ciphers);
        goto fail;
    }
    if (o->ciphers_tls13 != NULL && SSL_CTX_set_ciphersuites(ctx, o->ciphers_tls13) != 1) {
        client_ctx_error("set the TLS 1.3 ciphersuites", "Error: Unable to set TLS 1.3 "
                         "ciphersuites. Check cipher_tls13 list \"%s\".", o->ciphers_tls13);
        goto fail;
    }
    if (o->alpn != NULL && !set_alpn(ctx, o->alpn)) {
        client_ctx_error(NULL, "Error: Invalid bridge_alpn \"%s\".", o->alpn);
        goto fail;
    }
    if (o->psk_identity != NULL || o->psk_hex != NULL) {
        if (o->psk_identity == NULL || o->psk_hex == NULL ||
            !hex_key(o->psk_hex, ex->psk, &ex->psk_len) ||
            (ex->psk_identity = strdup(o->psk_identity)) == NULL) {
            client_ctx_error(NULL, "Error: Invalid bridge_identity / bridge_psk%s.", "");
            goto fail;
        }
        SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
        /* PSK replaces certificates; TLS 1.3 offers PSK through the same callback. */
        return ctx;
    }
    if ((o->cafile != NULL || o->capath != NULL) &&
        SSL_CTX_load_verify_locations(ctx, o->cafile, o->capath) != 1) {
        if (o->cafile != NULL)
            client_ctx_error("load the ca", "Error: Unable to load CA certificates, check "
                             "bridge_cafile \"%s\".", o->cafile);
        else
            client_ctx_error("load the ca", "Error: Unable to load CA certificates, check "
                             "bridge_capath \"%s\".", o->capath);
        goto fail;
    }
    if (o->use_os_certs && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        client_ctx_error("load the system's CA certificates", "Error: Unable to load the "
                         "system's CA certificates%s.", "");
        goto fail;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (o->certfile != NULL || o->keyfile != NULL) {
        if (o->certfile == NULL || o->keyfile == NULL) {
            client_ctx_error(NULL, "Error: Both bridge_certfile and bridge_keyfile must be "
                             "provided%s.", "");
            goto fail;
        }
        if (SSL_CTX_use_certificate_chain_file(ctx, o->certfile) != 1) {
            client_ctx_error("use the certificate chain file", "Error: Unable to load client "
                             "certificate, check bridge_certfile \"%s\".", o->certfile);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, o->keyfile, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            client_ctx_error("use the private key file", "Error: Unable to load client key "
                             "file, check bridge_keyfile \"%s\".", o->keyfile);
            goto fail;
        }
    }
    return ctx;
fail:
    SSL_CTX_free(ctx); /* frees ex through its ex_data free callback */
    return NULL;
}

void tls_ctx_free(struct ssl_ctx_st *ctx)
{
    SSL_CTX_free(ctx);
}

int xprt_tls_client_init(struct xprt *x, struct ssl_ctx_st *ctx, const char *host)
{
    struct client_extra *ex = extra_index >= 0 ? SSL_CTX_get_ex_data(ctx, extra_index) : NULL;
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    SSL *ssl = xprt_tls_attach(x, ctx);

    if (ssl == NULL)
        return -1;
    SSL_set_connect_state(ssl);
    if (!is_ip)
        SSL_set_tlsext_host_name(ssl, host);
    if (ex == NULL || !ex->insecure) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1
                  : X509_VERIFY_PARAM_set1_host(vp, host, 0) != 1) {
            tls_free(x);
            xprt_tcp_init(x, x->fd);
            return -1;
        }
    }
    return 0;
}
