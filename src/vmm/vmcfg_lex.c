/* The tokens of the VMM command line (vmcfg_lex.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/vmcfg_lex.h"

int vmcfg_split(const char *arg, struct vmcfg_props *pr, char *why, size_t n)
{
    if (strlen(arg) >= sizeof(pr->buf))
        return snprintf(why, n, "argument too long"), -1;
    strcpy(pr->buf, arg);
    pr->n = 0;
    for (char *s = pr->buf, *next; s; s = next) {
        if ((next = strchr(s, ',')))
            *next++ = 0;
        char *eq = strchr(s, '=');
        if (eq)
            *eq++ = 0;
        if (!*s)
            return snprintf(why, n, "empty property"), -1;
        if (pr->n == VMCFG_MAXPROPS)
            return snprintf(why, n, "too many properties"), -1;
        for (unsigned i = 0; i < pr->n; i++)
            if (!strcmp(pr->key[i], s))
                return snprintf(why, n, "'%s' given twice", s), -1;
        pr->key[pr->n] = s;
        pr->val[pr->n++] = eq;
    }
    return 0;
}

int vmcfg_uint(const char *s, unsigned max, unsigned *v)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    char *e;
    errno = 0;
    unsigned long x = strtoul(s, &e, 10);
    if (errno || *e || x > max)
        return -1;
    *v = (unsigned)x;
    return 0;
}

int vmcfg_size(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    unsigned shift = 20;
    if (errno)
        return -1;
    if (*e) {
        const char *sfx = "KMGT", *f = strchr(sfx, toupper((unsigned char)*e));
        if (!f || e[1])
            return -1;
        shift = 10 + 10 * (unsigned)(f - sfx);
    }
    if (v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int vmcfg_bool(const char *s, bool *b)
{
    static const char *const t[] = { "on", "yes", "true" }, *const f[] = { "off", "no", "false" };
    for (unsigned i = 0; s && i < 3; i++)
        if (!strcmp(s, t[i]) || !strcmp(s, f[i]))
            return *b = !strcmp(s, t[i]), 0;
    return -1;
}

/* Hex digits (at most max) at *s; returns how many were read. */
static unsigned hexn(const char **s, unsigned max, unsigned *v)
{
    unsigned d = 0;
    for (*v = 0; d < max && isxdigit((unsigned char)**s); d++, (*s)++) {
        int c = tolower((unsigned char)**s);
        *v = *v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return d;
}

static int fn_digit(const char *s, unsigned *fn)
{
    if (s[0] < '0' || s[0] > '7' || s[1])
        return -1;
    return *fn = (unsigned)(s[0] - '0'), 0;
}

int vmcfg_bdf(const char *s, unsigned *dom, uint16_t *bdf)
{
    unsigned v[3], d[3], k = 0, fn;
    for (;;) {
        if (k == 3 || !(d[k] = hexn(&s, 4, &v[k])))
            return -1;
        k++;
        if (*s != ':')
            break;
        s++;
    }
    if (k < 2 || *s != '.' || fn_digit(s + 1, &fn) || d[k - 2] > 2 || d[k - 1] > 2 ||
        v[k - 1] > 0x1F)
        return -1;
    *dom = k == 3 ? v[0] : 0;
    *bdf = (uint16_t)(v[k - 2] << 8 | v[k - 1] << 3 | fn);
    return 0;
}

int vmcfg_addr(const char *s, unsigned *slot, unsigned *fn)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (!hexn(&s, 2, slot))
        return -1;
    *fn = 0;
    return *s == '.' ? fn_digit(s + 1, fn) : *s ? -1 : 0;
}
