/* fuzz_store.c - libFuzzer target for the store readers: store_decode() over a sequence of our
 * records and mosqdb_next() over Mosquitto's chunks. No over-read (ASan); DONE consumes a
 * record inside the input that decodes the same on its own, with targets inside it; a record
 * is NEED_MORE one byte short. */
#include <stdlib.h>
#include <string.h>

#include "mosqdb.h"
#include "proxy_decode.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ours(const uint8_t *data, size_t size)
{
    size_t pos = 0;

    while (pos < size) {
        struct store_rec r, again;
        size_t used, used2;
        const char *why = NULL;
        enum dec d = store_decode(data + pos, size - pos, &r, &used, &why);

        if (d == DEC_ERROR && why == NULL)
            abort();
        if (d != DEC_DONE)
            return;
        if (used < STORE_REC_HEAD || used > size - pos)
            abort();
        if (store_decode(data + pos, used, &again, &used2, &why) != DEC_DONE || used2 != used)
            abort();
        if (store_decode(data + pos, used - 1, &again, &used2, &why) != DEC_NEED_MORE)
            abort();
        for (uint32_t i = 0; r.type == STORE_PUBLISH && i < r.ntargets; i++) {
            struct store_target t;
            store_target_at(&r, i, &t);
            if (t.qos > 2)
                abort();
        }
        pos += used;
    }
}

static void theirs(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    struct mosqdb_rec r;
    size_t used;
    const char *why = NULL;
    int rc;

    while ((rc = mosqdb_next(data + pos, size - pos, &r, &used, &why)) == 1) {
        if (used < 8 || used > size - pos)
            abort();
        if (r.topic.len > 0 && (r.topic.p < data || r.topic.p + r.topic.len > data + size))
            abort();
        pos += used;
    }
    if (rc < 0 && why == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why;

    /* Our own store's records carry a CRC the fuzzer rarely hits by chance, so inputs whose
     * first byte is 'S' get their checksums fixed first: the field decoders behind them are
     * what is worth fuzzing. */
    if (size > 0 && data[0] == 'S') {
        uint8_t *p = malloc(size - 1);
        size_t pos = 0, n = size - 1;
        if (p == NULL)
            return 0;
        if (n > 0)
            memcpy(p, data + 1, n);
        while (n - pos >= STORE_REC_HEAD) {
            uint32_t body = (uint32_t)p[pos] << 24 | (uint32_t)p[pos + 1] << 16 |
                            (uint32_t)p[pos + 2] << 8 | p[pos + 3];
            if (body > n - pos - STORE_REC_HEAD)
                break;
            uint32_t crc = proxy_crc32c_update(store_crc32c(p + pos, 4), p + pos + 8, body + 1u);
            p[pos + 4] = (uint8_t)(crc >> 24);
            p[pos + 5] = (uint8_t)(crc >> 16);
            p[pos + 6] = (uint8_t)(crc >> 8);
            p[pos + 7] = (uint8_t)crc;
            pos += STORE_REC_HEAD + body;
        }
        ours(p, n);
        free(p);
        return 0;
    }
    ours(data, size);
    if (size >= MOSQDB_HEADER_LEN && mosqdb_header(data, size, &why) == 0)
        theirs(data + MOSQDB_HEADER_LEN, size - MOSQDB_HEADER_LEN);
    else
        theirs(data, size);
    return 0;
}
