/* DMAR table building and parsing (vtd-reference.md §8, os-driver §4). */
#include "acpi/dmar.h"

#define HDR_LEN   48
#define DRHD_LEN  16
#define SCOPE_LEN 8    /* header 6 + one (device, function) path element */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v), put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v), put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static size_t drhd_build(const struct dmar_unit *u, uint8_t *p)
{
    size_t len = DRHD_LEN + SCOPE_LEN * u->nscope;
    put16(p, 0), put16(p + 2, (uint16_t)len);
    p[4] = u->include_all ? 1 : 0, p[5] = u->size;
    put16(p + 6, u->segment), put64(p + 8, u->base);
    for (unsigned i = 0; i < u->nscope; i++) {
        uint8_t *s = p + DRHD_LEN + SCOPE_LEN * i;
        s[0] = u->scope[i].type, s[1] = SCOPE_LEN, s[2] = s[3] = 0, s[4] = 0;
        s[5] = (uint8_t)(u->scope[i].bdf >> 8);
        s[6] = (uint8_t)((u->scope[i].bdf >> 3) & 0x1F), s[7] = (uint8_t)(u->scope[i].bdf & 7);
    }
    return len;
}

size_t dmar_build(const struct dmar_info *info, uint8_t *buf, size_t cap)
{
    size_t len = HDR_LEN;
    for (unsigned i = 0; i < info->nunits; i++)
        len += DRHD_LEN + SCOPE_LEN * info->unit[i].nscope;
    if (len > cap || len > 0xFFFFFFFFu)
        return 0;
    for (size_t i = 0; i < len; i++)
        buf[i] = 0;
    __builtin_memcpy(buf, "DMAR", 4);
    put32(buf + 4, (uint32_t)len);
    buf[8] = 1;                                   /* revision (§8.1) */
    __builtin_memcpy(buf + 10, "VSVM  ", 6);      /* OEM id */
    __builtin_memcpy(buf + 16, "VSVMDMAR", 8);    /* OEM table id */
    put32(buf + 24, 1), __builtin_memcpy(buf + 28, "VSVM", 4), put32(buf + 32, 1);
    buf[36] = (uint8_t)(info->haw - 1), buf[37] = info->flags;
    size_t off = HDR_LEN;
    for (int pass = 0; pass < 2; pass++)          /* include-all units last */
        for (unsigned i = 0; i < info->nunits; i++)
            if (info->unit[i].include_all == (pass == 1))
                off += drhd_build(&info->unit[i], buf + off);
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + buf[i]);
    buf[9] = (uint8_t)(0 - sum);
    return len;
}

static int parse_scopes(const uint8_t *p, size_t len, struct dmar_unit *u, const char **why)
{
    for (size_t off = DRHD_LEN; off < len;) {
        uint8_t slen = p[off + 1];
        if (len - off < 6 || slen < 6 || slen > len - off || (slen - 6) % 2) {
            *why = "bad device scope length";
            return -1;
        }
        if ((p[off] == 1 || p[off] == 2) && slen >= 8) {
            if (u->nscope == DMAR_MAX_SCOPES) {
                *why = "too many device scopes";
                return -1;
            }
            /* The last path element names the device (bridges before it
             * are not modelled: scopes here sit on their start bus). */
            const uint8_t *last = p + off + slen - 2;
            u->scope[u->nscope].type = p[off];
            u->scope[u->nscope++].bdf = (uint16_t)(p[off + 5] << 8 | (last[0] & 0x1F) << 3 | (last[1] & 7));
        }
        off += slen;
    }
    return 0;
}

static int parse_drhd(const uint8_t *p, size_t len, struct dmar_info *info, const char **why)
{
    if (len < DRHD_LEN) {
        *why = "DRHD shorter than 16 bytes";
        return -1;
    }
    if (info->nunits == DMAR_MAX_UNITS) {
        *why = "too many DRHD structures";
        return -1;
    }
    struct dmar_unit *u = &info->unit[info->nunits];
    *u = (struct dmar_unit){ .include_all = p[4] & 1, .size = p[5] & 0xF,
                             .segment = get16(p + 6), .base = get64(p + 8) };
    if (!u->base || (u->base & 0xFFF)) {
        *why = "DRHD register base zero or not 4-KiB aligned";
        return -1;
    }
    for (unsigned i = 0; i < info->nunits; i++)
        if (info->unit[i].include_all && u->include_all && info->unit[i].segment == u->segment) {
            *why = "two INCLUDE_PCI_ALL units in one segment";
            return -1;
        }
    if (parse_scopes(p, len, u, why))
        return -1;
    info->nunits++;
    return 0;
}

int dmar_parse(const uint8_t *buf, size_t len, struct dmar_info *info, const char **why)
{
    static const char *unused;
    why = why ? why : &unused;
    *info = (struct dmar_info){ 0 };
    if (len < HDR_LEN || __builtin_memcmp(buf, "DMAR", 4) || get32(buf + 4) != len) {
        *why = "not a DMAR table (signature or length)";
        return -1;
    }
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + buf[i]);
    if (sum) {
        *why = "bad checksum";
        return -1;
    }
    if (buf[36] < 11) {
        *why = "host address width below 12 bits";   /* Linux "Invalid DMAR haw" */
        return -1;
    }
    info->haw = (uint8_t)(buf[36] + 1), info->flags = buf[37];
    for (size_t off = HDR_LEN; off < len;) {
        uint16_t type = get16(buf + off), slen;
        if (len - off < 4 || (slen = get16(buf + off + 2)) < 4 || slen > len - off) {
            *why = "bad remapping structure length";
            return -1;
        }
        if (type == 0 && parse_drhd(buf + off, slen, info, why))
            return -1;
        off += slen;
    }
    return 0;
}

int dmar_unit_for(const struct dmar_info *info, uint16_t segment, uint16_t bdf)
{
    int all = -1;
    for (unsigned i = 0; i < info->nunits; i++) {
        const struct dmar_unit *u = &info->unit[i];
        if (u->segment != segment)
            continue;
        if (u->include_all)
            all = (int)i;
        for (unsigned s = 0; s < u->nscope; s++)
            if (u->scope[s].type == 1 && u->scope[s].bdf == bdf)
                return (int)i;
    }
    return all;
}
