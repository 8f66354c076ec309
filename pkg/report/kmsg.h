/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kmsg.h - the "kmsg" section: what the kernel's log ring buffer
 * (/dev/kmsg, Documentation/ABI/testing/dev-kmsg) says about storage, PCIe,
 * NICs and firmware, as typed events. docs/report/kmsg.md.
 */
#ifndef NP_REPORT_KMSG_H
#define NP_REPORT_KMSG_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum np_kmsg_kind {
	NP_KMSG_NONE = 0,
	NP_KMSG_NVME_TIMEOUT,        /* "I/O … QID n timeout, aborting" / "…, completion polled" */
	NP_KMSG_NVME_ABORT,          /* "Abort status: 0x…" */
	NP_KMSG_NVME_RESET,          /* "timeout, reset|disable controller", "controller is down; will reset", … */
	NP_KMSG_IO_ERROR,            /* block layer "<status> error, dev X, sector N" in every prefix variant */
	NP_KMSG_SCSI_TIMEOUT,        /* "timing out command, waited Ns", "FAILED Result: hostbyte=DID_TIME_OUT" */
	NP_KMSG_SCSI_OFFLINE,        /* "Device offlined - …", "Offlining disk!", "rejecting I/O to offline device" */
	NP_KMSG_PATH_FAILED,         /* dm-mpath "[M:m: ]Failing path M:m." */
	NP_KMSG_PATH_REINSTATED,     /* dm-mpath "[M:m: ]Reinstating path M:m." */
	NP_KMSG_AER_CORRECTABLE,     /* "PCIe Bus Error: severity=Correct(ed|able)" */
	NP_KMSG_AER_UNCORRECTABLE,   /* "PCIe Bus Error: severity=Uncorrect(ed|able) (Non-Fatal|Fatal)" */
	NP_KMSG_LINK_DOWN,           /* "NIC Link is Down", "Link is Down", "Link down" */
	NP_KMSG_LINK_UP,             /* "NIC Link is Up", "Link is Up", "Link up" */
	NP_KMSG_FIRMWARE_LOAD_FAILED,/* "Direct firmware load for F failed with error E", "firmware: failed to load F (E)" */
	NP_KMSG_SCSI_TRANSPORT,      /* "Result: hostbyte=DID_TRANSPORT_DISRUPTED": the FC rport / iSCSI session is blocked */
	NP_KMSG_FC_LINK_DOWN,        /* qla2xxx "LOOP DOWN detected": the FC link under the paths went down */
	NP_KMSG_ISCSI_CONN_ERROR,    /* " connectionN:M: detected conn error (1021)" */
	NP_KMSG_ISCSI_SESSION_TIMEOUT, /* " sessionN: session recovery timed out after N secs": its I/O now fails */
	NP_KMSG_HUNG_TASK,           /* "INFO: task comm:pid blocked for more than N seconds." */
	NP_KMSG_GPU_XID,             /* "NVRM: Xid (PCI:0000:3b:00): 79, pid=…, name=…, GPU has fallen off the bus." */
	NP_KMSG_GPU_SXID,            /* "nvidia-nvswitch3: SXid (PCI:0000:88:00.0): 20034, Fatal, …" */
	NP_KMSG_GPU_RESET,           /* amdgpu "GPU reset(N) failed" / "GPU reset(N) succeeded!" */
	NP_KMSG_KIND_MAX,
};

/* What a GPU log line asks of the node (pkg/collect/gpu_xid.c, from NVIDIA's Xid catalog). */
enum np_gpu_class {
	NP_GPU_CLASS_NONE = 0,       /* not a GPU event */
	NP_GPU_CLASS_APPLICATION,    /* the application's error: restart it or ignore; never a node problem */
	NP_GPU_CLASS_RESET,          /* the GPU needs a reset */
	NP_GPU_CLASS_REBOOT,         /* the node needs a reboot (bare-metal restart) */
	NP_GPU_CLASS_HARDWARE,       /* a hardware fault: mechanicals, NVLink, thermal */
	NP_GPU_CLASS_UNCLASSIFIED,   /* a code without a row (or one the driver branch decides, branch unknown) */
	NP_GPU_CLASS_MAX,
};

/* "application", "gpu-reset", "node-reboot", "hardware", "unclassified"; "none". Static. */
const char *np_gpu_class_name(enum np_gpu_class c);

/* The JSON name of a kind ("nvme_timeout", …); "none" for NP_KMSG_NONE, "unknown" out of range. Static. */
const char *np_kmsg_kind_name(enum np_kmsg_kind k);

struct np_kmsg_event {
	enum np_kmsg_kind kind;
	char *device;          /* "sda", "nvme0", "0000:00:1c.0", "eth0", path "8:16" */
	char *map;             /* path events: the multipath map's "M:m" when the kernel printed it, else NULL */
	char *detail;          /* kind-specific (see docs/report/kmsg.md), or NULL */
	char *op;              /* io_error: "READ", "WRITE", … when printed, else NULL */
	uint64_t sector;       /* io_error: 512-byte sector */
	bool has_sector;
	uint64_t seq;          /* kernel record sequence number (the first occurrence) */
	uint64_t count;        /* identical records aggregated into this event (>= 1) */
	uint64_t last_seq;     /* sequence number of the newest of them */
	uint64_t last_monotonic_us; /* its kernel timestamp */
	unsigned priority;     /* syslog level 0 (emerg) … 7 (debug) */
	unsigned facility;     /* syslog facility: 0 kernel, 1 user (lines written to /dev/kmsg), … */
	uint64_t monotonic_us; /* kernel timestamp: microseconds since boot, suspend not counted */
	int64_t wall_estimate_ms; /* estimated Unix time in ms, 0 when not estimated (see docs) */
	char *message;         /* the record's text, \xNN escapes decoded */
	char *subsystem;       /* dictionary SUBSYSTEM= ("pci", "block", "net"), or NULL */
	char *kdevice;         /* dictionary DEVICE= ("b8:0", "+pci:0000:00:1c.0", "n2"), or NULL */
	/* GPU kinds: repeats aggregate per (kind, device, code) whatever the pid/name/text */
	int gpu_code;          /* Xid/SXid code; amdgpu reset: 1 failed, 0 succeeded; -1 other kinds */
	enum np_gpu_class gpu_class;
	int64_t gpu_pid;       /* pid of the first occurrence, -1 when not printed */
	char *gpu_process;     /* its process name, or NULL */
	unsigned driver_branch; /* NVIDIA driver major the class was read under (0 = not known) */
	const char *gpu_origin; /* the table row's source (static), or NULL */
};

/* Multipath path flaps seen in this run's log records (pkg/collect/flaps.h, log source only). */
struct np_kmsg_flaps {
	char *map;                /* the map's "M:m" as the kernel printed it, "?" when it printed none */
	unsigned in_window;       /* failed->active transitions within flaps_window_ms before now */
	uint64_t total;           /* all such transitions in the records read */
};

struct np_kmsg {
	struct np_status status;
	char *source_path;        /* "/dev/kmsg", or a capture file's path under the host root */
	uint64_t records_read;    /* records read and parsed in this run */
	uint64_t lost;            /* records overwritten before they were read (EPIPE / sequence gaps) */
	uint64_t bad_records;     /* records that did not parse */
	uint64_t first_seq, last_seq;
	bool have_seq;
	uint64_t matched;         /* events classified (can exceed n: only the newest max_events are kept) */
	unsigned max_events;      /* ctx->kmsg_max */
	struct np_kmsg_event *events; /* oldest first */
	size_t n;
	bool wall_clock_estimated;
	struct np_kmsg_flaps *flaps;
	size_t n_flaps;
	int64_t flaps_window_ms;
	unsigned nvidia_branch;   /* major of the newest "NVRM: loading NVIDIA UNIX … Kernel Module X.Y" line, 0 = none */
};

void np_kmsg_event_free(struct np_kmsg_event *e);
void np_kmsg_free(struct np_kmsg *s);
json_t *np_kmsg_to_json(const struct np_kmsg *s);
void np_kmsg_print(const struct np_kmsg *s, struct np_out *o);
int np_kmsg_bundle(const struct np_kmsg *s, struct np_bundle *b);

#endif /* NP_REPORT_KMSG_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(kmsg)
#endif
