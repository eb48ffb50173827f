/* JSON output helpers of the vsvm command (README: the JSON of run,
 * scenario, decode and bench). */
#ifndef VSVM_TOOLS_JSON_H
#define VSVM_TOOLS_JSON_H

#include <stdio.h>

/* s as a JSON string: quotes, '"' and '\' escaped, control characters as
 * \u00XX (RFC 8259 §7). */
void json_str(FILE *f, const char *s);

#endif
