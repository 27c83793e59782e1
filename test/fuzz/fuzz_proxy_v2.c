/* fuzz_proxy_v2.c - libFuzzer target for proxy_v2_decode(): no over-read (ASan), and on DONE
 * a consumed length inside the input, borrowed strings inside the header, and the same answer
 * from the header alone while one byte less still needs more. */
#include <stdlib.h>
#include <string.h>

#include "proxy_decode.h"

static void check_str(struct proxy_str s, const uint8_t *buf, size_t used)
{
    if (s.p == NULL) {
        if (s.len != 0)
            abort();
        return;
    }
    if (s.p < buf || s.p + s.len > buf + used)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proxy_info in, again;
    size_t used, used2;
    const char *why;
    enum dec r = proxy_v2_decode(data, size, &in, &used, &why);

    if (r == DEC_ERROR && why == NULL)
        abort();
    if (r != DEC_DONE)
        return 0;
    if (used < PROXY_V2_HEADER_FIXED || used > size ||
        used > PROXY_V2_HEADER_FIXED + PROXY_V2_MAX_VARIABLE)
        abort();
    check_str(in.ssl_version, data, used);
    check_str(in.ssl_cipher, data, used);
    check_str(in.ssl_cn, data, used);
    check_str(in.ssl_sig_alg, data, used);
    check_str(in.ssl_key_alg, data, used);
    check_str(in.alpn, data, used);
    check_str(in.authority, data, used);
    check_str(in.unique_id, data, used);
    check_str(in.netns, data, used);
    if (in.local && (in.has_addr || in.has_ssl))
        abort();
    if (proxy_v2_decode(data, used, &again, &used2, &why) != DEC_DONE || used2 != used ||
        again.has_ssl != in.has_ssl || again.ssl_cn.len != in.ssl_cn.len)
        abort();
    if (proxy_v2_decode(data, used - 1, &again, &used2, &why) != DEC_NEED_MORE)
        abort();
    return 0;
}
