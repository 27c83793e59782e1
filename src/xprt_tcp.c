/* xprt_tcp.c - the plain socket transport (TCP and unix sockets): read(2), writev(2), and the
 * non-blocking connect for outgoing connections. No buffering of its own. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xprt.h"

#define IOV_BATCH 64 /* iovecs per writev(2); well under IOV_MAX */

static ssize_t tcp_read(struct xprt *x, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(x->fd, buf, len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            x->want = XPRT_WANT_READ;
            return XPRT_AGAIN;
        }
        x->why = NULL;
        return XPRT_ERR;
    }
}

static ssize_t tcp_writev(struct xprt *x, const struct iovec *iov, int iovcnt)
{
    for (;;) {
        ssize_t n = writev(x->fd, iov, iovcnt < IOV_BATCH ? iovcnt : IOV_BATCH);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            x->want = XPRT_WANT_WRITE;
            return XPRT_AGAIN;
        }
        x->why = NULL;
        return XPRT_ERR;
    }
}

static void tcp_shutdown(struct xprt *x)
{
    shutdown(x->fd, SHUT_RDWR);
}

static size_t tcp_pending(const struct xprt *x)
{
    (void)x;
    return 0; /* the kernel holds it: the poll handle sees it */
}

static void tcp_free(struct xprt *x)
{
    x->ctx = NULL;
}

const struct xprt_ops xprt_tcp_ops = {
    "tcp", tcp_read, tcp_writev, tcp_shutdown, tcp_pending, tcp_free,
};

void xprt_tcp_init(struct xprt *x, int fd)
{
    x->ops = &xprt_tcp_ops;
    x->ctx = NULL;
    x->fd = fd;
    x->want = 0;
    x->why = NULL;
}

int xprt_tcp_connect(const char *host, uint16_t port, const char **why)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
    struct addrinfo *res = NULL;
    char service[8];
    int fd = -1, rc, one = 1;

    snprintf(service, sizeof(service), "%u", port);
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        *why = gai_strerror(rc);
        return -1;
    }
    *why = "no usable address";
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd == -1)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            break;
        }
        *why = strerror(errno);
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int xprt_connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
        return errno;
    return err;
}
