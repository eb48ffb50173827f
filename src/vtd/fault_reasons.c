/* Fault-reason classification and names (vtd-reference.md §5.4, §5.5). */
#include "vtd/fault.h"

bool vtd_fault_qualified(uint8_t r)
{
    switch (r) {
    case VTD_FR_NONE:
    case VTD_FR_ROOT_NP: case VTD_FR_ROOT_READ_ERR: case VTD_FR_ROOT_RSVD:
    case VTD_FR_CTX_READ_ERR:
    case VTD_FR_SM_RTADDR_INVALID: case VTD_FR_SM_TTM_PASID: case VTD_FR_SM_TTM_PRQ:
    case VTD_FR_SM_ROOT_READ_ERR: case VTD_FR_SM_ROOT_NP: case VTD_FR_SM_ROOT_RSVD:
    case VTD_FR_SM_CTX_READ_ERR: case VTD_FR_SM_PDIR_READ_ERR: case VTD_FR_SM_PTE_READ_ERR:
        return false;
    default:
        return true;
    }
}

const char *vtd_fault_name(uint8_t r)
{
    switch (r) {
    case 0x01: return "root entry not present";
    case 0x02: return "context entry not present";
    case 0x03: return "invalid context entry";
    case 0x04: return "address beyond AGAW/MGAW";
    case 0x05: return "write without write permission";
    case 0x06: return "read without read permission";
    case 0x07: return "error reading second-level entry";
    case 0x08: return "error reading root entry";
    case 0x09: return "error reading context entry";
    case 0x0A: return "reserved field in root entry";
    case 0x0B: return "reserved field in context entry";
    case 0x0C: return "reserved field in second-level entry";
    case 0x0D: return "request type blocked by context TT";
    case 0x0E: return "output address in interrupt range";
    case 0x30: return "invalid root-table address / TTM";
    case 0x31: return "legacy TTM for request with PASID";
    case 0x32: return "legacy TTM for page request";
    case 0x38: return "error reading scalable root entry";
    case 0x39: return "scalable root entry not present";
    case 0x3A: return "reserved field in scalable root entry";
    case 0x40: return "error reading scalable context entry";
    case 0x41: return "scalable context entry not present";
    case 0x42: return "reserved field in scalable context entry";
    case 0x43: return "invalid scalable context entry";
    case 0x44: return "device-TLB disabled (DTE=0) for translation request";
    case 0x45: return "PASID disabled (PASIDE=0) for request with PASID";
    case 0x46: return "PASID beyond PASID directory size";
    case 0x47: return "page requests disabled (PRE=0)";
    case 0x48: return "RID_PASID field error";
    case 0x50: return "error reading PASID directory entry";
    case 0x51: return "PASID directory entry not present";
    case 0x52: return "reserved field in PASID directory entry";
    case 0x58: return "error reading PASID table entry";
    case 0x59: return "PASID table entry not present";
    case 0x5A: return "reserved field in PASID table entry";
    case 0x5B: return "invalid PASID table entry";
    case 0x5C: return "execute request with ERE=0";
    case 0x5D: return "supervisor request with SRE=0";
    case 0x70: return "error reading first-level entry";
    case 0x71: return "first-level entry not present";
    case 0x72: return "reserved field in first-level entry";
    case 0x73: return "error reading first-level root table";
    case 0x74: return "nested: first-level table beyond second-level width";
    case 0x75: return "nested: no second-level read permission for first-level root table";
    case 0x76: return "nested: no second-level read permission for first-level table";
    case 0x77: return "nested: no second-level write permission for A/D update";
    case 0x78: return "error reading second-level entry";
    case 0x7A: return "reserved field in second-level entry";
    case 0x7B: return "invalid second-level page-table pointer";
    case 0x7C: return "second-level A/D update in non-snooped walk";
    case 0x80: return "non-canonical input address";
    case 0x81: return "user request to supervisor page";
    case 0x82: return "execute request without execute permission";
    case 0x83: return "address beyond the supported width";
    case 0x85: return "write without write permission";
    case 0x86: return "read without read permission";
    case 0x87: return "output address in interrupt range";
    case 0x90: return "first-level A/D update in non-snooped walk";
    case 0x91: return "first-level A/D update failed";
    default:   return "reserved/unknown reason";
    }
}
