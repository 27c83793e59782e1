/* proxy_allow.c - proxy_protocol_allow_from: does a peer address fall in a listener's list.
 * Pure (no sockets, no globals, no logging), so the broker (proxy.c) and the unit tests run the
 * one and only implementation. */
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "proxy_decode.h"

static bool prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    return rest == 0 || ((a[whole] ^ b[whole]) & (0xFF << (8 - rest)) & 0xFF) == 0;
}

bool proxy_allowed(const struct listener_conf *l, const struct sockaddr *sa)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
    const uint8_t *v4 = NULL, *v6 = NULL;

    if (l->proxy_allow_count == 0)
        return true;
    if (sa->sa_family == AF_INET) {
        v4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        v6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        if (memcmp(v6, mapped, sizeof(mapped)) == 0)
            v4 = v6 + 12;
    }
    /* Other families (a unix socket peer) carry no address to check: refuse, as a list was set */
    for (size_t i = 0; i < l->proxy_allow_count; i++) {
        const struct proxy_allow *a = &l->proxy_allow[i];
        if (a->addr.ss_family == AF_INET && v4 != NULL
            && prefix_match((const uint8_t *)&((const struct sockaddr_in *)&a->addr)->sin_addr,
                            v4, a->prefix))
            return true;
        if (a->addr.ss_family == AF_INET6 && v6 != NULL
            && prefix_match(((const struct sockaddr_in6 *)&a->addr)->sin6_addr.s6_addr, v6,
                            a->prefix))
            return true;
    }
    return false;
}
