/* qtest device-side verbs: requests a device behind a unit issues (DMA,
 * ATS translation, PRI page request, stray ATS completion), scripted
 * endpoints (attach), and the logs of MSIs and device events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/qtest.h"

#define QT_DMA_MAX 65536u

struct qt_flags {
    bool pasid_present, priv, exec, read, write, lpig;
    uint32_t pasid;
    uint16_t prgi;
};

/* Optional words: pasid=N prgi=N priv exec read write lpig (only those in
 * `allowed`, a space-separated list). */
static int parse_flags(int argc, char **argv, int first, const char *allowed, struct qt_flags *f,
                       FILE *out)
{
    memset(f, 0, sizeof(*f));
    for (int i = first; i < argc; i++) {
        uint64_t v;
        const char *w = argv[i], *eq = strchr(w, '=');
        size_t klen = eq ? (size_t)(eq - w) : strlen(w);
        char key[16];
        if (klen >= sizeof(key) || !(snprintf(key, sizeof(key), "%.*s", (int)klen, w), strstr(allowed, key))) {
            fprintf(out, "ERR unknown option '%s' (allowed: %s)\n", w, allowed);
            return -1;
        }
        if (!strcmp(key, "pasid") && eq && !qt_num(eq + 1, &v) && v < (1u << 20))
            f->pasid_present = true, f->pasid = (uint32_t)v;
        else if (!strcmp(key, "prgi") && eq && !qt_num(eq + 1, &v) && v < 512)
            f->prgi = (uint16_t)v;
        else if (!eq && !strcmp(key, "priv")) f->priv = true;
        else if (!eq && !strcmp(key, "exec")) f->exec = true;
        else if (!eq && !strcmp(key, "read")) f->read = true;
        else if (!eq && !strcmp(key, "write")) f->write = true;
        else if (!eq && !strcmp(key, "lpig")) f->lpig = true;
        else {
            fprintf(out, "ERR bad option '%s'\n", w);
            return -1;
        }
    }
    return 0;
}

static struct qt_unit *sid_unit(struct qt_platform *p, const char *s, uint16_t *sid, FILE *out)
{
    uint64_t v;
    if (qt_num(s, &v) || v > 0xFFFF) {
        fprintf(out, "ERR bad source id '%s' (0..0xffff, bus << 8 | dev << 3 | fn)\n", s);
        return NULL;
    }
    *sid = (uint16_t)v;
    struct qt_unit *qu = qt_unit_for_sid(p, *sid);
    if (!qu)
        fprintf(out, "ERR no remapping unit covers bus %u\n", *sid >> 8);
    return qu;
}

/* Translates and accesses [addr, addr + len) page by page, as a device's
 * DMA of that length would be split; stops at the first fault. */
static void dma(struct qt_platform *p, struct qt_unit *qu, struct vtd_req *req, uint8_t *buf,
                size_t len, FILE *out)
{
    size_t done = 0;
    uint64_t start = req->addr;
    while (done < len) {
        struct vtd_result r;
        req->addr = start + done;
        vtd_translate(qu->u, req, &r);
        if (r.fault) {
            fprintf(out, "FAULT reason=0x%02x addr=%#llx qualified=%d recorded=%d (%s)\n", r.fault,
                    (unsigned long long)req->addr, r.qualified, r.recorded, vtd_fault_name(r.fault));
            return;
        }
        if (r.blocked) {
            fprintf(out, "FAULT blocked addr=%#llx (abort-DMA mode, nothing recorded)\n",
                    (unsigned long long)req->addr);
            return;
        }
        uint64_t page = 1ULL << r.page_shift, chunk = page - (r.addr & (page - 1));
        if (chunk > len - done)
            chunk = len - done;
        int rc = req->write ? mem_write(p->mem, r.addr, buf + done, chunk)
                            : mem_read(p->mem, r.addr, buf + done, chunk);
        if (rc) {
            fprintf(out, "ERR DMA to %#llx: no memory there (unsupported request)\n",
                    (unsigned long long)r.addr);
            return;
        }
        done += chunk;
    }
    fputs("OK", out);
    if (!req->write) {
        fputc(' ', out);
        qt_print_hex(out, buf, len);
    }
    fputc('\n', out);
}

void qt_verb_dma_read(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint16_t sid;
    uint64_t addr, size;
    struct qt_flags f;
    struct qt_unit *qu;
    if (argc < 4 || qt_num(argv[2], &addr) || qt_num(argv[3], &size) || !size || size > QT_DMA_MAX) {
        fprintf(out, "ERR usage: dma_read SID ADDR SIZE(1..%u) [pasid=N] [priv] [exec]\n", QT_DMA_MAX);
        return;
    }
    if (!(qu = sid_unit(p, argv[1], &sid, out)) || parse_flags(argc, argv, 4, "pasid priv exec", &f, out))
        return;
    struct vtd_req req = { .sid = sid, .pasid_present = f.pasid_present, .pasid = f.pasid,
                           .addr = addr, .priv = f.priv, .exec = f.exec };
    uint8_t *buf = malloc(size);
    if (buf)
        dma(p, qu, &req, buf, size, out);
    else
        fprintf(out, "ERR out of memory\n");
    free(buf);
}

void qt_verb_dma_write(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint16_t sid;
    uint64_t addr;
    struct qt_flags f;
    struct qt_unit *qu;
    static uint8_t buf[QT_DMA_MAX];
    long n;
    if (argc < 4 || qt_num(argv[2], &addr) || (n = qt_hex_bytes(argv[3], buf, sizeof(buf))) <= 0) {
        fprintf(out, "ERR usage: dma_write SID ADDR 0xDATA(1..%u bytes) [pasid=N] [priv]\n", QT_DMA_MAX);
        return;
    }
    if (!(qu = sid_unit(p, argv[1], &sid, out)) || parse_flags(argc, argv, 4, "pasid priv", &f, out))
        return;
    struct vtd_req req = { .sid = sid, .pasid_present = f.pasid_present, .pasid = f.pasid,
                           .addr = addr, .priv = f.priv, .write = true };
    dma(p, qu, &req, buf, (size_t)n, out);
}

/* ats SID ADDR [pasid=N] [priv] [exec] [write]: "OK 0xPAGE size=0x.. perm=rwx",
 * "NOACCESS reason=0x.." or "UR reason=0x..". */
void qt_verb_ats(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint16_t sid;
    uint64_t addr;
    struct qt_flags f;
    struct qt_unit *qu;
    if (argc < 3 || qt_num(argv[2], &addr)) {
        fprintf(out, "ERR usage: ats SID ADDR [pasid=N] [priv] [exec] [write]\n");
        return;
    }
    if (!(qu = sid_unit(p, argv[1], &sid, out)) ||
        parse_flags(argc, argv, 3, "pasid priv exec write", &f, out))
        return;
    struct vtd_req req = { .sid = sid, .pasid_present = f.pasid_present, .pasid = f.pasid,
                           .addr = addr, .priv = f.priv, .exec = f.exec, .write = f.write };
    struct vtd_ats_completion c;
    vtd_ats_translate(qu->u, &req, &c);
    if (c.status == VTD_ATS_OK)
        fprintf(out, "OK %#llx size=%#llx perm=%c%c%c\n", (unsigned long long)c.addr,
                1ULL << c.page_shift, c.perm & VTD_PERM_R ? 'r' : '-',
                c.perm & VTD_PERM_W ? 'w' : '-', c.perm & VTD_PERM_X ? 'x' : '-');
    else
        fprintf(out, "%s reason=0x%02x (%s)\n", c.status == VTD_ATS_NO_ACCESS ? "NOACCESS" : "UR",
                c.fault, c.fault ? vtd_fault_name(c.fault) : "blocked");
}

void qt_verb_page_request(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint16_t sid;
    uint64_t addr;
    struct qt_flags f;
    struct qt_unit *qu;
    if (argc < 3 || qt_num(argv[2], &addr)) {
        fprintf(out, "ERR usage: page_request SID ADDR [pasid=N] [read] [write] [exec] [priv] "
                     "[lpig] [prgi=N]\n");
        return;
    }
    if (!(qu = sid_unit(p, argv[1], &sid, out)) ||
        parse_flags(argc, argv, 3, "pasid read write exec priv lpig prgi", &f, out))
        return;
    struct vtd_page_req pr = { .sid = sid, .pasid_present = f.pasid_present, .pasid = f.pasid,
                               .addr = addr, .read = f.read, .write = f.write, .exec = f.exec,
                               .priv = f.priv, .lpig = f.lpig, .prgi = f.prgi };
    vtd_page_request(qu->u, &pr);
    fprintf(out, "OK\n");
}

/* attach SID [timeout]: a scripted endpoint that logs what it receives;
 * with `timeout` it never completes device-TLB invalidations. */
void qt_verb_attach(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint16_t sid;
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "timeout"))) {
        fprintf(out, "ERR usage: attach SID [timeout]\n");
        return;
    }
    if (!sid_unit(p, argv[1], &sid, out))
        return;
    int rc = qt_attach(p, sid, argc == 3);
    if (rc)
        fprintf(out, "ERR cannot attach %#x: %s\n", sid, rc == -EBUSY ? "already attached" : "no room");
    else
        fprintf(out, "OK\n");
}

void qt_verb_inv_completion(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    uint16_t sid;
    struct qt_unit *qu;
    if (argc != 2) {
        fprintf(out, "ERR usage: inv_completion SID\n");
        return;
    }
    if (!(qu = sid_unit(p, argv[1], &sid, out)))
        return;
    vtd_ats_unexpected_completion(qu->u, sid);
    fprintf(out, "OK\n");
}

/* irqs: "OK N unitU:ADDR:DATA ..." for the MSIs since the last irqs. */
void qt_verb_irqs(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    (void)argv;
    if (argc != 1) {
        fprintf(out, "ERR usage: irqs\n");
        return;
    }
    fprintf(out, "OK %u", p->nmsi);
    for (unsigned i = 0; i < p->nmsi; i++)
        fprintf(out, " unit%u:%#llx:%#x", p->msi[i].unit, (unsigned long long)p->msi[i].addr,
                p->msi[i].data);
    if (p->msi_lost)
        fprintf(out, " lost=%u", p->msi_lost);
    fputc('\n', out);
    p->nmsi = p->msi_lost = 0;
}

/* events: "OK N EVENT ..." for what scripted endpoints received. */
void qt_verb_events(struct qt_platform *p, int argc, char **argv, FILE *out)
{
    (void)argv;
    if (argc != 1) {
        fprintf(out, "ERR usage: events\n");
        return;
    }
    fprintf(out, "OK %u", p->nevents);
    for (unsigned i = 0; i < p->nevents; i++)
        fprintf(out, " %s", p->events[i]);
    if (p->events_lost)
        fprintf(out, " lost=%u", p->events_lost);
    fputc('\n', out);
    p->nevents = p->events_lost = 0;
}
