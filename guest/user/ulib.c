/* Ring-3 helpers: strings and console lines. */
#include "ulib.h"

size_t u_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

long u_puts(const char *s)
{
    return ucall(KVM_CALL_WRITE, (long)s, (long)u_strlen(s), 0);
}

void ul_s(struct u_line *l, const char *s)
{
    while (*s && l->len < sizeof(l->buf) - 2)
        l->buf[l->len++] = *s++;
}

static void ul_num(struct u_line *l, uint64_t v, unsigned base)
{
    char t[24];
    unsigned n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        t[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (n && l->len < sizeof(l->buf) - 2)
        l->buf[l->len++] = t[--n];
}

void ul_u(struct u_line *l, uint64_t v) { ul_num(l, v, 10); }
void ul_x(struct u_line *l, uint64_t v) { ul_s(l, "0x"); ul_num(l, v, 16); }

long ul_end(struct u_line *l)
{
    l->buf[l->len++] = '\n';
    long r = ucall(KVM_CALL_WRITE, (long)l->buf, (long)l->len, 0);
    l->len = 0;
    return r;
}
