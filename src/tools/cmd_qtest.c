/* `vsvm qtest [-m SIZE] [-unit SPEC]...`: reads one command per line from
 * standard input and answers each on one line on standard output, in the
 * spirit of QEMU's qtest protocol (README "Scripted platform access").
 * Blank lines and lines starting with '#' get no answer. */
#include <stdlib.h>
#include <string.h>

#include "tools/cmds.h"
#include "tools/qtest.h"

#define QT_LINE_MAX 200000
#define QT_WORDS    32

static const struct { const char *name; qt_verb_fn fn; } verbs[] = {
    { "readb", qt_verb_readn }, { "readw", qt_verb_readn }, { "readl", qt_verb_readn },
    { "readq", qt_verb_readn }, { "writeb", qt_verb_writen }, { "writew", qt_verb_writen },
    { "writel", qt_verb_writen }, { "writeq", qt_verb_writen }, { "read", qt_verb_read },
    { "write", qt_verb_write }, { "dma_read", qt_verb_dma_read }, { "dma_write", qt_verb_dma_write },
    { "ats", qt_verb_ats }, { "page_request", qt_verb_page_request }, { "attach", qt_verb_attach },
    { "inv_completion", qt_verb_inv_completion }, { "irqs", qt_verb_irqs },
    { "events", qt_verb_events },
};

static void run_line(struct qt_platform *p, char *line, FILE *out)
{
    char *argv[QT_WORDS], *save = NULL;
    int argc = 0;
    for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
        if (argc == QT_WORDS) {
            fprintf(out, "ERR too many words\n");
            return;
        }
        argv[argc++] = w;
    }
    if (!argc || argv[0][0] == '#')
        return;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(argv[0], verbs[i].name)) {
            verbs[i].fn(p, argc, argv, out);
            return;
        }
    fprintf(out, "ERR unknown command '%s'\n", argv[0]);
}

static int parse_size(const char *s, uint64_t *v)
{
    char *end;
    unsigned long long x = strtoull(s, &end, 0);
    unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
    if (end == s || (shift && end[1]) || (!shift && *end) || x == 0 || x > (4ULL << 30) >> shift)
        return -1;
    *v = x << shift;
    return 0;
}

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "vsvm qtest: %s%s%s\nusage: vsvm qtest [-m SIZE] [-unit scalable|legacy"
            "[,cap=HEX][,ecap=HEX][,cm=on|off][,buses=LO-HI]]...\n", msg, arg ? " " : "", arg ? arg : "");
    return 2;
}

int cmd_qtest(int argc, char **argv)
{
    struct vtd_config cfgs[QT_MAX_UNITS];
    unsigned ranges[QT_MAX_UNITS][2], n = 0;
    uint64_t mem = 256ULL << 20;
    char why[160];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc) {
            if (parse_size(argv[++i], &mem) || mem > QT_UNIT_BASE)
                return usage("bad memory size (1..4G, below the register pages):", argv[i]);
        } else if (!strcmp(argv[i], "-unit") && i + 1 < argc) {
            if (n == QT_MAX_UNITS)
                return usage("too many units", NULL);
            if (qt_parse_unit(argv[++i], &cfgs[n], &ranges[n][0], &ranges[n][1], why, sizeof(why)))
                return usage(why, NULL);
            n++;
        } else {
            return usage("unknown or incomplete option", argv[i]);
        }
    }
    if (!n) {
        vtd_config_default(&cfgs[0]);
        ranges[0][0] = 0, ranges[0][1] = 255, n = 1;
    }
    struct qt_platform *p = calloc(1, sizeof(*p));
    char *line = malloc(QT_LINE_MAX);
    if (!p || !line || qt_platform_init(p, mem, cfgs, (const unsigned (*)[2])ranges, n, why, sizeof(why))) {
        fprintf(stderr, "vsvm qtest: %s\n", p && line ? why : "out of memory");
        free(p), free(line);
        return 1;
    }
    while (fgets(line, QT_LINE_MAX, stdin)) {
        if (!strchr(line, '\n') && !feof(stdin)) {
            int c;
            while ((c = getchar()) != EOF && c != '\n')
                ;
            printf("ERR line longer than %d bytes\n", QT_LINE_MAX - 2);
        } else {
            run_line(p, line, stdout);
        }
        fflush(stdout);
    }
    qt_platform_fini(p);
    free(p), free(line);
    return 0;
}
