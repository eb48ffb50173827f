/* `vsvm qtest` verbs (README "Scripted platform access"). Each handler gets
 * the words of one command line and prints exactly one answer line:
 * "OK ...", "FAULT ...", "NOACCESS ...", "UR ..." or "ERR <message>". */
#ifndef VSVM_TOOLS_QTEST_H
#define VSVM_TOOLS_QTEST_H

#include <stdio.h>
#include "tools/qtest_platform.h"

typedef void (*qt_verb_fn)(struct qt_platform *p, int argc, char **argv, FILE *out);

/* qtest_mem.c: memory and register verbs. */
void qt_verb_readn(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_writen(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_read(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_write(struct qt_platform *p, int argc, char **argv, FILE *out);
/* qtest_dev.c: device-side verbs and event logs. */
void qt_verb_dma_read(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_dma_write(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_ats(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_page_request(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_attach(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_inv_completion(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_irqs(struct qt_platform *p, int argc, char **argv, FILE *out);
void qt_verb_events(struct qt_platform *p, int argc, char **argv, FILE *out);

/* Parses a whole-string number (decimal or 0x hex); 0 or -1. */
int qt_num(const char *s, uint64_t *v);
/* Parses "0xHEX" bytes into buf (at most cap); returns the length or -1. */
long qt_hex_bytes(const char *s, uint8_t *buf, size_t cap);
void qt_print_hex(FILE *out, const uint8_t *buf, size_t n);

#endif
