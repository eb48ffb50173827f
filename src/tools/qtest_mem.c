/* qtest memory verbs, QEMU's names and answers: writeb/w/l/q ADDR VALUE,
 * readb/w/l/q ADDR ("OK 0x%016x"), write ADDR SIZE 0xDATA, read ADDR SIZE
 * ("OK 0xDATA"). An address in a unit's register page is an MMIO access
 * with that size, with the unit's semantics (sizes other than 4 and 8 are
 * ignored by the unit and read as 0). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/qtest.h"

#define QT_BULK_MAX (1u << 20)

int qt_num(const char *s, uint64_t *v)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

long qt_hex_bytes(const char *s, uint8_t *buf, size_t cap)
{
    if (strncmp(s, "0x", 2) && strncmp(s, "0X", 2))
        return -1;
    s += 2;
    size_t len = strlen(s);
    if (len % 2 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        char byte[3] = { s[2 * i], s[2 * i + 1], 0 };
        char *end;
        buf[i] = (uint8_t)strtoul(byte, &end, 16);
        if (*end)
            return -1;
    }
    return (long)(len / 2);
}

void qt_print_hex(FILE *out, const uint8_t *buf, size_t n)
{
    fputs("0x", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", buf[i]);
}

static unsigned verb_size(const char *verb)
{
    switch (verb[strlen(verb) - 1]) {
    case 'b': return 1;
    case 'w': return 2;
    case 'l': return 4;
    default:  return 8;
    }
}

void qt_verb_readn(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint64_t addr, v = 0;
    uint32_t off;
    unsigned size = verb_size(argv[0]);
    if (argc != 2 || qt_num(argv[1], &addr)) {
        fprintf(out, "ERR usage: %s ADDR\n", argv[0]);
        return;
    }
    struct qt_unit *qu = qt_unit_at(p, addr, &off);
    if (qu)
        v = vtd_mmio_read(qu->u, off, size);
    else if (mem_read(p->mem, addr, &v, size)) {
        fprintf(out, "ERR address %#llx outside memory\n", (unsigned long long)addr);
        return;
    }
    fprintf(out, "OK 0x%016llx\n", (unsigned long long)v);
}

void qt_verb_writen(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint64_t addr, v;
    uint32_t off;
    unsigned size = verb_size(argv[0]);
    if (argc != 3 || qt_num(argv[1], &addr) || qt_num(argv[2], &v)) {
        fprintf(out, "ERR usage: %s ADDR VALUE\n", argv[0]);
        return;
    }
    if (size < 8 && (v >> (8 * size))) {
        fprintf(out, "ERR value %#llx does not fit in %u bytes\n", (unsigned long long)v, size);
        return;
    }
    struct qt_unit *qu = qt_unit_at(p, addr, &off);
    if (qu)
        vtd_mmio_write(qu->u, off, size, v);
    else if (mem_write(p->mem, addr, &v, size)) {
        fprintf(out, "ERR address %#llx outside memory\n", (unsigned long long)addr);
        return;
    }
    fprintf(out, "OK\n");
}

static bool bulk_args(struct qt_platform *p, uint64_t addr, uint64_t size, FILE *out)
{
    uint32_t off;
    if (!size || size > QT_BULK_MAX) {
        fprintf(out, "ERR size must be 1..%u\n", QT_BULK_MAX);
        return false;
    }
    if (qt_unit_at(p, addr, &off) || qt_unit_at(p, addr + size - 1, &off)) {
        fprintf(out, "ERR bulk access to a register page: use readl/readq/writel/writeq\n");
        return false;
    }
    return true;
}

void qt_verb_read(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint64_t addr, size;
    if (argc != 3 || qt_num(argv[1], &addr) || qt_num(argv[2], &size)) {
        fprintf(out, "ERR usage: read ADDR SIZE\n");
        return;
    }
    if (!bulk_args(p, addr, size, out))
        return;
    uint8_t *buf = malloc(size);
    if (!buf || mem_read(p->mem, addr, buf, size))
        fprintf(out, "ERR range %#llx+%#llx outside memory\n", (unsigned long long)addr,
                (unsigned long long)size);
    else {
        fputs("OK ", out);
        qt_print_hex(out, buf, size);
        fputc('\n', out);
    }
    free(buf);
}

/* Data shorter than SIZE is zero-padded, as QEMU does. */
void qt_verb_write(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint64_t addr, size;
    if (argc != 4 || qt_num(argv[1], &addr) || qt_num(argv[2], &size)) {
        fprintf(out, "ERR usage: write ADDR SIZE 0xDATA\n");
        return;
    }
    if (!bulk_args(p, addr, size, out))
        return;
    uint8_t *buf = calloc(1, size);
    long n = buf ? qt_hex_bytes(argv[3], buf, size) : -1;
    if (n < 0)
        fprintf(out, "ERR data must be 0x followed by at most SIZE bytes of hex\n");
    else if (mem_write(p->mem, addr, buf, size))
        fprintf(out, "ERR range %#llx+%#llx outside memory\n", (unsigned long long)addr,
                (unsigned long long)size);
    else
        fprintf(out, "OK\n");
    free(buf);
}
