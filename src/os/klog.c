/* A small vsnprintf for kernel logs (no libc): %s %c %d %i %u %x %X %p
 * with the l / ll / z length modifiers, '#', '0', '-' and a width. Output
 * is always NUL-terminated; returns the length that fit. */
#include "os/os.h"

struct out { char *buf; size_t n, len; };

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->n)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, bool neg, bool upper,
                    const char *prefix, unsigned width, char pad, bool left)
{
    char tmp[24];
    unsigned n = 0, plen = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
        v /= base;
    } while (v);
    while (prefix && prefix[plen])
        plen++;
    unsigned total = n + plen + (neg ? 1 : 0);
    if (!left && pad == ' ')
        for (; total < width; total++)
            put(o, ' ');
    if (neg)
        put(o, '-');
    for (unsigned i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (!left && pad == '0')
        for (; total < width; total++)
            put(o, '0');
    while (n)
        put(o, tmp[--n]);
    for (; left && total < width; total++)
        put(o, ' ');
}

static unsigned long long take_arg(va_list *ap, int lng, bool is_signed, bool *neg)
{
    long long s = 0;
    unsigned long long u = 0;
    if (is_signed) {
        s = lng >= 2 ? va_arg(*ap, long long) : lng == 1 ? va_arg(*ap, long) : va_arg(*ap, int);
        *neg = s < 0;
        return *neg ? 0ULL - (unsigned long long)s : (unsigned long long)s;
    }
    u = lng >= 2 ? va_arg(*ap, unsigned long long)
        : lng == 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
    return u;
}

static const char *conv(struct out *o, const char *f, va_list *ap)
{
    bool alt = false, left = false, neg = false;
    char pad = ' ';
    unsigned width = 0;
    int lng = 0;
    for (;; f++) {
        if (*f == '#') alt = true;
        else if (*f == '0') pad = '0';
        else if (*f == '-') left = true;
        else break;
    }
    while (*f >= '0' && *f <= '9')
        width = width * 10 + (unsigned)(*f++ - '0');
    while (*f == 'l' || *f == 'z')
        lng += *f == 'z' ? 2 : 1, f++;
    switch (*f) {
    case 's': {
        const char *s = va_arg(*ap, const char *);
        for (s = s ? s : "(null)"; *s; s++)
            put(o, *s);
        break;
    }
    case 'c': put(o, (char)va_arg(*ap, int)); break;
    case 'd': case 'i': {
        unsigned long long v = take_arg(ap, lng, true, &neg);
        put_num(o, v, 10, neg, false, NULL, width, pad, left);
        break;
    }
    case 'u': put_num(o, take_arg(ap, lng, false, &neg), 10, false, false, NULL, width, pad, left); break;
    case 'x': case 'X': {
        unsigned long long v = take_arg(ap, lng, false, &neg);
        put_num(o, v, 16, false, *f == 'X', alt && v ? "0x" : NULL, width, pad, left);
        break;
    }
    case 'p':
        put_num(o, (unsigned long long)(uintptr_t)va_arg(*ap, void *), 16, false, false, "0x",
                width, pad, left);
        break;
    case '%': put(o, '%'); break;
    default: put(o, '%'); if (*f) put(o, *f); break;
    }
    return *f ? f + 1 : f;
}

int os_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    struct out o = { buf, n, 0 };
    va_list aq;
    va_copy(aq, ap);
    while (*fmt) {
        if (*fmt != '%')
            put(&o, *fmt++);
        else
            fmt = conv(&o, fmt + 1, &aq);
    }
    va_end(aq);
    if (n)
        buf[o.len < n ? o.len : n - 1] = '\0';
    return (int)o.len;
}
