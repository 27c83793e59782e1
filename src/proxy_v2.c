/* proxy_v2.c - pure decoder for the binary PROXY protocol v2 header and its TLVs (SSL sub-TLVs,
 * CRC32C check). No I/O, no allocation, no logging: proxy.c applies the listener policy to
 * what this reports. Wire format: shared reference proxy-protocol.md §3-§4. */
#include "proxy_decode.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#define SIG_LEN 12
#define CMD_LOCAL 0x0
#define CMD_PROXY 0x1

#define FAM_UNSPEC 0x00
#define FAM_TCP4 0x11
#define FAM_TCP6 0x21
#define FAM_UNIX 0x31

#define ADDR_LEN_TCP4 12  /* 4 + 4 + 2 + 2 */
#define ADDR_LEN_TCP6 36  /* 16 + 16 + 2 + 2 */
#define ADDR_LEN_UNIX 216 /* 108 + 108 */
#define UNIX_PATH_LEN 108

#define TLV_ALPN 0x01
#define TLV_AUTHORITY 0x02
#define TLV_CRC32C 0x03
#define TLV_NOOP 0x04
#define TLV_UNIQUE_ID 0x05
#define TLV_SSL 0x20
#define TLV_NETNS 0x30
#define SUB_VERSION 0x21
#define SUB_CN 0x22
#define SUB_CIPHER 0x23
#define SUB_SIG_ALG 0x24
#define SUB_KEY_ALG 0x25

#define UNIQUE_ID_MAX 128
#define SSL_FIXED 5 /* client u8 + verify u32 */
#define TLV_HDR 3

static const uint8_t sig[SIG_LEN] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

/* Reflected Castagnoli polynomial 0x82F63B78, one entry per low byte of the running CRC.
 * Generated once with the bitwise definition; test_proxy_v2.c checks it against that. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu,
    0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
    0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu,
    0xf165b798u, 0x030e349bu, 0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
    0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
    0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
    0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
    0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu,
    0x1642ae59u, 0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
    0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu,
    0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
    0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu,
    0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
    0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
    0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu,
    0x4767748au, 0xb50cf789u, 0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
    0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu,
    0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
    0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
    0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u,
    0xe9141340u, 0x1b7f9043u, 0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
    0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
    0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
    0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u, 0x502036a5u,
    0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u,
    0x0e330a81u, 0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
    0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u,
    0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
    0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u,
    0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
    0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
    0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u,
    0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
    0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u,
    0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
    0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au, 0xc69f7b69u,
    0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

static uint32_t crc_table_update(uint32_t crc, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* SSE 4.2 has a CRC32C instruction: eight bytes a step, which the persistence store's records
 * (every acknowledged message passes through one) need far more than PROXY headers do. */
__attribute__((target("sse4.2"))) static uint32_t crc_hw_update(uint32_t crc, const uint8_t *p,
                                                                size_t len)
{
    uint64_t c = crc;

    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
    }
    crc = (uint32_t)c;
    for (; len > 0; p++, len--)
        crc = __builtin_ia32_crc32qi(crc, *p);
    return crc;
}

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t len)
{
    static int hw = -1;

    if (hw < 0)
        hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    return hw ? crc_hw_update(crc, p, len) : crc_table_update(crc, p, len);
}
#else
static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t len)
{
    return crc_table_update(crc, p, len);
}
#endif

uint32_t proxy_crc32c(const uint8_t *p, size_t len)
{
    return crc_update(0xffffffffu, p, len) ^ 0xffffffffu;
}

uint32_t proxy_crc32c_update(uint32_t crc, const uint8_t *p, size_t len)
{
    return crc_update(crc ^ 0xffffffffu, p, len) ^ 0xffffffffu;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void set_str(struct proxy_str *s, const uint8_t *p, uint16_t len)
{
    s->p = p;
    s->len = len;
}

/* The fixed part, checked as far as it has arrived so garbage is refused at its first wrong
 * byte. Returns NULL when every available byte is acceptable. */
static const char *check_fixed(const uint8_t *buf, size_t len)
{
    size_t n = len < SIG_LEN ? len : SIG_LEN;

    for (size_t i = 0; i < n; i++)
        if (buf[i] != sig[i])
            return "bad signature";
    if (len > 12) {
        if (buf[12] >> 4 != 2)
            return "unsupported version";
        if ((buf[12] & 0x0f) > CMD_PROXY)
            return "unsupported command";
    }
    if (len > 13) {
        uint8_t fam = buf[13];
        bool local = (buf[12] & 0x0f) == CMD_LOCAL;

        /* UNSPEC only makes sense for LOCAL; datagram transports are no use to MQTT. */
        if (fam != FAM_TCP4 && fam != FAM_TCP6 && fam != FAM_UNIX && !(local && fam == FAM_UNSPEC))
            return "unsupported address family";
    }
    if (len > 15) {
        uint16_t vlen = be16(buf + 14);

        if (vlen > PROXY_V2_MAX_VARIABLE)
            return "header too long";
        if ((buf[12] & 0x0f) == CMD_PROXY) {
            /* Known before the block arrives, so refuse it now rather than wait for it. */
            if (vlen == 0)
                return "no address block";
            if ((buf[13] == FAM_TCP4 && vlen < ADDR_LEN_TCP4) ||
                (buf[13] == FAM_TCP6 && vlen < ADDR_LEN_TCP6))
                return "address block too short";
        }
    }
    return NULL;
}

/* A path in p[0..max), ended by a NUL or by max; copied into sun_path, which keeps its NUL.
 * Both forms fit: a spec-form 108-byte field without a NUL is refused as too long. */
static const char *set_unix(struct sockaddr_storage *ss, const uint8_t *p, size_t max)
{
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    const uint8_t *nul = memchr(p, 0, max);
    size_t n = nul != NULL ? (size_t)(nul - p) : max;

    if (n >= sizeof(un->sun_path))
        return "unix path too long";
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, p, n);
    un->sun_path[n] = '\0';
    return NULL;
}

/* Fills the addresses from the block at a[0..vlen); *tlv_off gets where the TLVs start. */
static const char *parse_addr(uint8_t fam, const uint8_t *a, size_t vlen, struct proxy_info *out,
                              size_t *tlv_off)
{
    const char *why;

    if (fam == FAM_TCP4) {
        struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
        struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;

        s->sin_family = d->sin_family = AF_INET;
        memcpy(&s->sin_addr, a, 4);     /* both already in network order */
        memcpy(&d->sin_addr, a + 4, 4);
        memcpy(&s->sin_port, a + 8, 2);
        memcpy(&d->sin_port, a + 10, 2);
        *tlv_off = ADDR_LEN_TCP4;
    } else if (fam == FAM_TCP6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
        struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;

        s->sin6_family = d->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, a, 16);
        memcpy(&d->sin6_addr, a + 16, 16);
        memcpy(&s->sin6_port, a + 32, 2);
        memcpy(&d->sin6_port, a + 34, 2);
        *tlv_off = ADDR_LEN_TCP6;
    } else if (vlen >= ADDR_LEN_UNIX) {
        if ((why = set_unix(&out->src, a, UNIX_PATH_LEN)) != NULL ||
            (why = set_unix(&out->dst, a + UNIX_PATH_LEN, UNIX_PATH_LEN)) != NULL)
            return why;
        *tlv_off = ADDR_LEN_UNIX;
    } else {
        /* Mosquitto's short form (its test sends just "/path"): the whole block is the source
         * path, there is no destination and no room for TLVs. */
        if ((why = set_unix(&out->src, a, vlen)) != NULL)
            return why;
        out->dst.ss_family = AF_UNIX;
        *tlv_off = vlen;
    }
    out->has_addr = true;
    return NULL;
}

/* The value of a PP2_TYPE_SSL TLV, v[0..n). Sub-TLVs must fit inside it exactly. */
static const char *parse_ssl(const uint8_t *v, size_t n, struct proxy_info *out)
{
    unsigned seen = 0;
    size_t off = SSL_FIXED;

    if (n < SSL_FIXED)
        return "SSL TLV too short";
    out->has_ssl = true;
    out->ssl_client = v[0];
    out->ssl_verify = be32(v + 1);
    while (off < n) {
        uint8_t type;
        uint16_t sl;
        struct proxy_str *dst = NULL;

        if (n - off < TLV_HDR)
            return "truncated SSL sub-TLV";
        type = v[off];
        sl = be16(v + off + 1);
        off += TLV_HDR;
        if (sl > n - off)
            return "SSL sub-TLV runs past the SSL TLV";
        switch (type) {
        case SUB_VERSION: dst = &out->ssl_version; break;
        case SUB_CN:      dst = &out->ssl_cn; break;
        case SUB_CIPHER:  dst = &out->ssl_cipher; break;
        case SUB_SIG_ALG: dst = &out->ssl_sig_alg; break;
        case SUB_KEY_ALG: dst = &out->ssl_key_alg; break;
        default:          break; /* later sub-types (group, sig scheme, client cert): unused */
        }
        if (dst != NULL) {
            /* A second CN could smuggle a different identity past a first one that was
             * inspected; one value per known field keeps the header unambiguous. */
            if (seen & (1u << (type - SUB_VERSION)))
                return type == SUB_CN ? "duplicate SSL CN" : "duplicate SSL sub-TLV";
            seen |= (1u << (type - SUB_VERSION));
            set_str(dst, v + off, sl);
        }
        off += sl;
    }
    return NULL;
}

/* The TLVs at h[off..end), h being the whole header. *crc_at gets the offset of a CRC32C
 * value (0 if none). */
static const char *parse_tlvs(const uint8_t *h, size_t off, size_t end, struct proxy_info *out,
                              size_t *crc_at)
{
    bool seen_alpn = false, seen_auth = false, seen_uid = false, seen_netns = false;
    const char *why;

    *crc_at = 0;
    while (off < end) {
        uint8_t type;
        uint16_t tl;
        const uint8_t *v;

        if (end - off < TLV_HDR)
            return "truncated TLV";
        type = h[off];
        tl = be16(h + off + 1);
        off += TLV_HDR;
        if (tl > end - off)
            return "TLV runs past the header";
        v = h + off;
        switch (type) {
        case TLV_ALPN:
            if (seen_alpn)
                return "duplicate ALPN TLV";
            seen_alpn = true;
            set_str(&out->alpn, v, tl);
            break;
        case TLV_AUTHORITY:
            if (seen_auth)
                return "duplicate authority TLV";
            seen_auth = true;
            set_str(&out->authority, v, tl);
            break;
        case TLV_CRC32C:
            if (*crc_at != 0)
                return "duplicate CRC32C TLV";
            if (tl != 4)
                return "bad CRC32C TLV length";
            *crc_at = off;
            break;
        case TLV_UNIQUE_ID:
            if (seen_uid)
                return "duplicate unique ID TLV";
            if (tl > UNIQUE_ID_MAX)
                return "unique ID TLV too long";
            seen_uid = true;
            set_str(&out->unique_id, v, tl);
            break;
        case TLV_SSL:
            if (out->has_ssl)
                return "duplicate SSL TLV";
            if ((why = parse_ssl(v, tl, out)) != NULL)
                return why;
            break;
        case TLV_NETNS:
            if (seen_netns)
                return "duplicate netns TLV";
            seen_netns = true;
            set_str(&out->netns, v, tl);
            break;
        default: /* NOOP, custom, experimental and future types are padding to us */
            break;
        }
        off += tl;
    }
    return NULL;
}

/* The CRC covers the whole header with its own 4 value bytes read as zeros. */
static bool crc_matches(const uint8_t *h, size_t hlen, size_t crc_at)
{
    static const uint8_t zero[4];
    uint32_t crc = 0xffffffffu;

    crc = crc_update(crc, h, crc_at);
    crc = crc_update(crc, zero, sizeof(zero));
    crc = crc_update(crc, h + crc_at + 4, hlen - crc_at - 4);
    return (crc ^ 0xffffffffu) == be32(h + crc_at);
}

/* On ERROR, out->has_addr says whether the address had been decoded before the problem was
 * found (a corrupt TLV), so the caller can name the client in its log line. */
enum dec proxy_v2_decode(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *used,
                         const char **why)
{
    size_t hlen, tlv_off, crc_at;

    memset(out, 0, sizeof(*out));
    *used = 0;
    *why = NULL;
    if ((*why = check_fixed(buf, len)) != NULL)
        return DEC_ERROR;
    if (len < PROXY_V2_HEADER_FIXED)
        return DEC_NEED_MORE;
    hlen = PROXY_V2_HEADER_FIXED + (size_t)be16(buf + 14);
    if (len < hlen)
        return DEC_NEED_MORE;
    out->version = 2;
    if ((buf[12] & 0x0f) == CMD_LOCAL) {
        /* A health check: whatever the block holds describes nobody, so it is only skipped. */
        out->local = true;
        *used = hlen;
        return DEC_DONE;
    }
    *why = parse_addr(buf[13], buf + PROXY_V2_HEADER_FIXED, hlen - PROXY_V2_HEADER_FIXED, out,
                      &tlv_off);
    if (*why == NULL)
        *why = parse_tlvs(buf, PROXY_V2_HEADER_FIXED + tlv_off, hlen, out, &crc_at);
    if (*why == NULL && crc_at != 0) {
        if (!crc_matches(buf, hlen, crc_at))
            *why = "CRC32C mismatch";
        else
            out->has_crc = true;
    }
    if (*why != NULL)
        return DEC_ERROR;
    *used = hlen;
    return DEC_DONE;
}
