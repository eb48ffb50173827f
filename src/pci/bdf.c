/* BDF text forms: "SSSS:BB:DD.F" and "BB:DD.F", as Linux prints them
 * (pci_name(): "%04x:%02x:%02x.%d"). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci/bus.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly n hex digits at s; -1 if any is not one. */
static long hex_n(const char *s, unsigned n)
{
    long v = 0;
    for (unsigned i = 0; i < n; i++) {
        int d = hexval(s[i]);
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* "BB:DD.F" exactly (7 characters, then the end of the string). */
static int parse_short(const char *s, uint16_t *bdf)
{
    if (strlen(s) != 7 || s[2] != ':' || s[5] != '.')
        return -EINVAL;
    long bus = hex_n(s, 2), dev = hex_n(s + 3, 2);
    if (bus < 0 || dev < 0 || dev > 0x1F || s[6] < '0' || s[6] > '7')
        return -EINVAL;
    *bdf = pci_bdf((unsigned)bus, (unsigned)dev, (unsigned)(s[6] - '0'));
    return 0;
}

int pci_bdf_parse(const char *s, uint16_t *seg, uint16_t *bdf)
{
    uint16_t b, sg = 0;
    if (!s || !bdf)
        return -EINVAL;
    size_t len = strlen(s);
    if (len == 12) {
        long v = s[4] == ':' ? hex_n(s, 4) : -1;
        if (v < 0 || parse_short(s + 5, &b))
            return -EINVAL;
        sg = (uint16_t)v;
    } else if (len != 7 || parse_short(s, &b)) {
        return -EINVAL;
    }
    if (seg)
        *seg = sg;
    *bdf = b;
    return 0;
}

int pci_bdf_format(char *buf, size_t n, uint16_t bdf)
{
    return snprintf(buf, n, "%02x:%02x.%u", pci_bdf_bus(bdf), pci_bdf_dev(bdf), pci_bdf_fn(bdf));
}

int pci_bdf_format_full(char *buf, size_t n, uint16_t seg, uint16_t bdf)
{
    return snprintf(buf, n, "%04x:%02x:%02x.%u", seg, pci_bdf_bus(bdf), pci_bdf_dev(bdf),
                    pci_bdf_fn(bdf));
}
