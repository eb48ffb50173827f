/* The platform `vsvm qtest` scripts: host memory at HPA 0, remapping units
 * with their register pages at 0xFED90000 + 0x1000 * i, each covering a
 * range of bus numbers, an MSI log, and scripted endpoints that record the
 * page group responses and device-TLB invalidations they receive. */
#ifndef VSVM_TOOLS_QTEST_PLATFORM_H
#define VSVM_TOOLS_QTEST_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>
#include "vtd/unit.h"

#define QT_MAX_UNITS  8
#define QT_UNIT_BASE  0xFED90000ULL
#define QT_UNIT_SIZE  0x1000ULL
#define QT_MAX_MSI    256
#define QT_MAX_EVENTS 256
#define QT_EVENT_LEN  128

struct qt_platform;

struct qt_unit {
    struct vtd_unit *u;
    struct vtd_config cfg;
    uint64_t base;
    unsigned bus_lo, bus_hi;
    struct qt_platform *p;
    unsigned index;
};

struct qt_dev {
    uint16_t sid;
    bool timeout;              /* never completes device-TLB invalidations */
    struct qt_platform *p;
};

struct qt_platform {
    struct mem_arena *mem;
    uint64_t mem_size;
    struct qt_unit units[QT_MAX_UNITS];
    unsigned nunits;
    struct { unsigned unit; uint64_t addr; uint32_t data; } msi[QT_MAX_MSI];
    unsigned nmsi, msi_lost;
    char events[QT_MAX_EVENTS][QT_EVENT_LEN];
    unsigned nevents, events_lost;
    struct qt_dev devs[VTD_MAX_DEVICES];
    unsigned ndevs;
};

/* Parses a unit spec "scalable|legacy[,cap=HEX][,ecap=HEX][,cm=on|off]
 * [,buses=LO-HI]" into cfg and range; 0 or -1 with a message in why. */
int qt_parse_unit(const char *spec, struct vtd_config *cfg, unsigned *lo, unsigned *hi,
                  char *why, unsigned why_len);
/* Creates memory and units (cfgs/ranges as parsed); 0 or -1 with why. */
int qt_platform_init(struct qt_platform *p, uint64_t mem_size, const struct vtd_config *cfgs,
                     const unsigned (*ranges)[2], unsigned n, char *why, unsigned why_len);
void qt_platform_fini(struct qt_platform *p);
/* The unit whose register page holds addr (and the offset), or NULL. */
struct qt_unit *qt_unit_at(struct qt_platform *p, uint64_t addr, uint32_t *off);
/* The unit in front of requester id sid, or NULL. */
struct qt_unit *qt_unit_for_sid(struct qt_platform *p, uint16_t sid);
/* Attaches a scripted endpoint with this requester id. 0 or -errno. */
int qt_attach(struct qt_platform *p, uint16_t sid, bool timeout);

#endif
