/* fuzz_proxy_v1.c - libFuzzer target for proxy_v1_decode(): no over-read (ASan), and on DONE
 * a consumed line inside the input that ends in CRLF, decodes the same on its own, and still
 * needs more one byte short. */
#include <stdlib.h>
#include <string.h>

#include "proxy_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proxy_info in, again;
    size_t used, used2;
    const char *why;
    enum dec r = proxy_v1_decode(data, size, &in, &used, &why);

    if (r == DEC_ERROR && why == NULL)
        abort();
    if (r == DEC_NEED_MORE && size >= PROXY_V1_MAX_LINE)
        abort();
    if (r != DEC_DONE)
        return 0;
    if (used < 8 || used > size || used > PROXY_V1_MAX_LINE || data[used - 2] != '\r' ||
        data[used - 1] != '\n' || memcmp(data, "PROXY ", 6) != 0)
        abort();
    if (in.has_addr && in.src.ss_family != AF_INET && in.src.ss_family != AF_INET6)
        abort();
    if (proxy_v1_decode(data, used, &again, &used2, &why) != DEC_DONE || used2 != used ||
        memcmp(&again, &in, sizeof(in)) != 0)
        abort();
    if (proxy_v1_decode(data, used - 1, &again, &used2, &why) != DEC_NEED_MORE)
        abort();
    return 0;
}
