/* Every trace point, by layer prefix (vtd_*, later viommu_*, dev_*).
 * TP(name, "what it reports") */
#ifndef VSVM_LIB_TRACE_POINTS_H
#define VSVM_LIB_TRACE_POINTS_H

#define TRACE_POINTS(TP) \
    TP(vtd_reg_read,       "register read: name, offset, size, value") \
    TP(vtd_reg_write,      "register write: name, offset, size, value (decoded)") \
    TP(vtd_reg_unknown,    "access to an unimplemented offset or with an unsupported size") \
    TP(vtd_gcmd,           "global command executed, resulting status") \
    TP(vtd_xlate,          "translation request and its outcome") \
    TP(vtd_xlate_fault,    "translation fault: reason, qualified, suppressed by FPD") \
    TP(vtd_walk_root,      "root entry read during a walk (decoded)") \
    TP(vtd_walk_ctx,       "context entry read during a walk (decoded)") \
    TP(vtd_walk_pasid,     "PASID directory / table entry read during a walk (decoded)") \
    TP(vtd_walk_fl,        "first-level paging entry read (decoded)") \
    TP(vtd_walk_sl,        "second-level paging entry read (decoded)") \
    TP(vtd_cache_inv,      "cache invalidation: cache, granularity, tags, entries dropped") \
    TP(vtd_iotlb_hit,      "IOTLB hit") \
    TP(vtd_fault_record,   "fault recorded in a fault recording register") \
    TP(vtd_qi_desc,        "invalidation descriptor fetched (decoded)") \
    TP(vtd_qi_error,       "invalidation queue error (IQE/ITE) or dropped status write") \
    TP(vtd_qi_devtlb,      "device-TLB invalidation request sent to a device") \
    TP(vtd_prq,            "page request queued, dropped or answered by the unit") \
    TP(vtd_prg_resp,       "page group response delivered to a device") \
    TP(vtd_ats,            "ATS translation request and completion") \
    TP(dev_doorbell,       "accelerator: doorbell rung for a context (batch address)") \
    TP(dev_batch_end,      "accelerator: a context's batch ended (state, error, address)") \
    TP(dev_ats_miss,       "accelerator: device-TLB miss, ATS translation request outcome") \
    TP(dev_page_request,   "accelerator: PRI page request sent") \
    TP(dev_page_response,  "accelerator: page group response received") \
    TP(dev_atc_inv,        "accelerator: device-TLB invalidation received")

#endif
