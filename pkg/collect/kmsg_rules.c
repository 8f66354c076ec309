// SPDX-License-Identifier: Apache-2.0
/*
 * kmsg_rules.c - the kernel-log classifier as data: one rule per message form,
 * a POSIX extended regular expression over the decoded message and the groups
 * that hold the device, map, detail, sector and operation (as
 * node-problem-detector keeps its kernel-monitor rules). Each rule names the
 * driver function whose format string it reads and the kernels that print it.
 * The first rule that matches wins: specific forms before general ones.
 * Each rule's longest literal text that every match contains is looked for
 * with strstr() first: glibc's regexec() over thousands of boot messages
 * times 37 rules was half of `inspect`'s CPU time; a rule's regex is
 * compiled only when that text is first found.
 */
#define _GNU_SOURCE
#include "kmsg.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <regex.h>
#include <string.h>

enum {
	R_NVME_CTRL = 1 << 0,  /* the device group names a namespace: report its controller */
	R_TRIM = 1 << 1,       /* detail: leading " ,-" dropped, at most 96 bytes */
};

struct kmsg_rule {
	enum np_kmsg_kind kind;
	const char *re;              /* POSIX ERE over the decoded message */
	unsigned char dev[2];        /* groups of the device, the first that matched wins; 0 = none */
	unsigned char map, detail, sector, op;
	const char *fixed_detail;    /* when no detail group: this text (may be NULL) */
	unsigned flags;
	const char *origin;          /* driver function and the kernels that print the form */
};

#define DEV_PREFIX "^(([^ :]+) ([^ ]+): )?"          /* dev_printk "<driver> <device>: " (optional) */
#define SCSI_PREFIX "^[^ :]+ ([0-9]+:[0-9]+:[0-9]+:[0-9]+): (\\[([^] ]{1,32})\\] )?" /* sdev/scmd_printk */
#define NVME_PREFIX "^nvme (nvme[0-9]+): "           /* dev_printk of an NVMe controller */
#define UP "([Uu][Pp])([^A-Za-z0-9].*)?$"
#define DOWN "([Dd][Oo][Ww][Nn])([^A-Za-z0-9].*)?$"

static const struct kmsg_rule rules[] = {
	/* dm-multipath: the map prefix (M:m) since 4.x; the in-text "dm-multipath: " of 2.6.12-2.6.18 */
	{ NP_KMSG_PATH_FAILED, "^device-mapper: (multipath: )?(dm-multipath: )?(([0-9]+:[0-9]+): )?Failing path ([^ ]+)",
	  { 5 }, 4, 0, 0, 0, NULL, 0,
	  "drivers/md/dm-mpath.c fail_path(): \"dm-multipath: Failing path %s.\" 2.6.12-2.6.18, "
	  "\"Failing path %s.\" 2.6.19+, \"%s: Failing path %s.\" (map M:m) 4.x+" },
	{ NP_KMSG_PATH_REINSTATED,
	  "^device-mapper: (multipath: )?(dm-multipath: )?(([0-9]+:[0-9]+): )?Reinstating path ([^ ]+)", { 5 }, 4, 0, 0, 0,
	  NULL, 0, "drivers/md/dm-mpath.c reinstate_path(): \"Reinstating path %s.\" 4.6+, map prefix 4.x+" },
	/* NVMe controller: the timeout ladder (pci.c nvme_timeout(): 3.x-5.x "I/O %d QID %d timeout, ...",
	 * 6.x "I/O tag %d (%04x) opcode %#x (%s) QID %d timeout, ...") */
	{ NP_KMSG_NVME_RESET, NVME_PREFIX "I/O .*QID [0-9]+ timeout, reset controller", { 1 }, 0, 0, 0, 0,
	  "reset controller", 0, "drivers/nvme/host/pci.c nvme_timeout(), 4.x+" },
	{ NP_KMSG_NVME_RESET, NVME_PREFIX "I/O .*QID [0-9]+ timeout, disable controller", { 1 }, 0, 0, 0, 0,
	  "disable controller", 0, "drivers/nvme/host/pci.c nvme_timeout(), 4.x+" },
	{ NP_KMSG_NVME_TIMEOUT, NVME_PREFIX "I/O .*QID [0-9]+ timeout, completion polled", { 1 }, 0, 0, 0, 0,
	  "completion polled", 0, "drivers/nvme/host/pci.c nvme_timeout(), 4.x+" },
	{ NP_KMSG_NVME_TIMEOUT, NVME_PREFIX "I/O .*QID [0-9]+ timeout, ", { 1 }, 0, 0, 0, 0, "aborting", 0,
	  "drivers/nvme/host/pci.c nvme_timeout(), 4.x+" },
	{ NP_KMSG_NVME_TIMEOUT, NVME_PREFIX ".*: timeout cid ", { 1 }, 0, 0, 0, 0, "timeout", 0,
	  "drivers/nvme/host/tcp.c nvme_tcp_timeout(): \"queue %d: timeout cid %#x type %d opcode %#x (%s)\", 6.x" },
	{ NP_KMSG_NVME_ABORT, NVME_PREFIX "Abort (status: .*)$", { 1 }, 0, 2, 0, 0, NULL, 0,
	  "drivers/nvme/host/pci.c abort_endio(): \"Abort status: 0x%x\", 4.x+" },
	{ NP_KMSG_NVME_RESET, NVME_PREFIX "controller is down; will reset", { 1 }, 0, 0, 0, 0, "controller is down", 0,
	  "drivers/nvme/host/pci.c nvme_warn_reset(), 4.x+" },
	{ NP_KMSG_NVME_RESET, NVME_PREFIX "Device not ready; aborting reset", { 1 }, 0, 0, 0, 0, "reset failed", 0,
	  "drivers/nvme/host/pci.c nvme_reset_work(), 4.x+" },
	{ NP_KMSG_NVME_RESET, NVME_PREFIX "Removing after probe failure", { 1 }, 0, 0, 0, 0,
	  "removed after probe failure", 0, "drivers/nvme/host/pci.c nvme_remove_dead_ctrl(), 4.x+" },
	{ NP_KMSG_NVME_RESET, "^(nvme[0-9]+(c[0-9]+)?n[0-9]+): detected capacity change from [0-9]+ to 0$", { 1 }, 0, 0,
	  0, 0, "namespace capacity 0", R_NVME_CTRL,
	  "block/genhd.c set_capacity_and_notify(): \"%s: detected capacity change from %lld to %lld\", 5.11+" },
	/* the block layer's failed request, four generations of prefix */
	{ NP_KMSG_IO_ERROR,
	  "^(blk_update_request: |print_req_error: |end_request: )?([A-Za-z/ ]{1,40}) error, dev ([^, ]{1,32}), "
	  "sector ([0-9]+)( op 0x[0-9a-fA-F]+:\\(([^)]+)\\))?",
	  { 3 }, 0, 2, 4, 6, NULL, 0,
	  "block/blk-mq.c blk_print_req_error() 5.x+; \"blk_update_request: \" 4.x-5.x, \"print_req_error: \" 4.19, "
	  "\"end_request: \" 3.x" },
	/* SCSI midlayer */
	{ NP_KMSG_SCSI_TIMEOUT, SCSI_PREFIX ".*timing out command, waited ", { 3, 1 }, 0, 0, 0, 0, "timing out command", 0,
	  "drivers/scsi/scsi_lib.c scsi_timeout()/scmd_eh_abort_handler(), 3.x+" },
	{ NP_KMSG_SCSI_TIMEOUT, SCSI_PREFIX ".*FAILED Result: hostbyte=DID_TIME_OUT", { 3, 1 }, 0, 0, 0, 0, "DID_TIME_OUT",
	  0, "drivers/scsi/scsi_logging.c scsi_print_result(), 4.x+" },
	{ NP_KMSG_SCSI_TRANSPORT, SCSI_PREFIX ".*Result: hostbyte=DID_TRANSPORT_DISRUPTED", { 3, 1 }, 0, 0, 0, 0,
	  "DID_TRANSPORT_DISRUPTED", 0,
	  "drivers/scsi/scsi_logging.c scsi_print_result(): the FC rport / iSCSI session is blocked, 2.6.28+" },
	{ NP_KMSG_SCSI_OFFLINE, SCSI_PREFIX ".*Device offlined - not ready after error recovery", { 3, 1 }, 0, 0, 0, 0,
	  "not ready after error recovery", 0, "drivers/scsi/scsi_error.c scsi_eh_offline_sdevs(), 2.6+" },
	{ NP_KMSG_SCSI_OFFLINE, SCSI_PREFIX ".*Medium access timeout failure\\. Offlining disk!", { 3, 1 }, 0, 0, 0, 0,
	  "medium access timeout", 0, "drivers/scsi/sd.c sd_eh_action(), 3.x+" },
	{ NP_KMSG_SCSI_OFFLINE, SCSI_PREFIX ".*rejecting I/O to offline device", { 3, 1 }, 0, 0, 0, 0,
	  "rejecting I/O to offline device", 0, "drivers/scsi/scsi_lib.c scsi_device_state_check(), 2.6+" },
	/* transports under the paths: FC and iSCSI lose the link before multipath fails the path */
	{ NP_KMSG_FC_LINK_DOWN, "^qla2xxx (\\[([0-9a-fA-F:.]+)\\]-[0-9a-fA-F]+:[0-9]+|([0-9a-fA-F:.]+)): LOOP DOWN detected",
	  { 2, 3 }, 0, 0, 0, 0, "LOOP DOWN", 0,
	  "drivers/scsi/qla2xxx/qla_isr.c qla2x00_async_event() MBA_LOOP_DOWN: \"LOOP DOWN detected (%x %x %x %x).\" "
	  "through ql_log() \"qla2xxx [%s]-%04x:%ld: \" 3.1+, qla_printk() \"qla2xxx %s: \" before" },
	{ NP_KMSG_ISCSI_CONN_ERROR, "^ ?(connection[0-9]+:[0-9]+): detected conn error \\(([0-9]+)\\)", { 1 }, 0, 2, 0, 0,
	  NULL, 0,
	  "drivers/scsi/scsi_transport_iscsi.c iscsi_conn_error_event(): iscsi_cls_conn_printk() \"detected conn error "
	  "(%d)\" (1020 ISCSI_ERR_TCP_CONN_CLOSE, 1021 ISCSI_ERR_CONN_FAILED, ...), 2.6.2x+" },
	{ NP_KMSG_ISCSI_SESSION_TIMEOUT, "^ ?(session[0-9]+): session recovery timed out after ([0-9]+ secs)", { 1 }, 0, 2,
	  0, 0, NULL, 0,
	  "drivers/scsi/scsi_transport_iscsi.c session_recovery_timedout(): \"session recovery timed out after %d "
	  "secs\", 2.6.2x+: the session's devices fail their I/O" },
	/* hung tasks: I/O that never completes shows here first */
	{ NP_KMSG_HUNG_TASK, "^INFO: task (.+:[0-9]+) blocked for more than ([0-9]+ seconds)", { 1 }, 0, 2, 0, 0, NULL, 0,
	  "kernel/hung_task.c check_hung_task(): \"INFO: task %s:%d blocked for more than %ld seconds.\", 2.6.30+" },
	/* GPUs: the code and class come from gpu_xid.c (np_xid_parse/np_xid_class); these rules find the lines */
	{ NP_KMSG_GPU_XID, "^NVRM: Xid \\((PCI:)?([0-9a-fA-F:.]+)\\): ([0-9]+)(,|$)", { 2 }, 0, 3, 0, 0, NULL, 0,
	  "NVIDIA driver (RM error logging): \"NVRM: Xid (PCI:%04x:%02x:%02x): %d, pid=%s, name=%s, %s\" (450+; "
	  "\"Xid (PCI:…): %d, %s\" and \"Xid (0000:…): %d, …\" before); docs.nvidia.com/deploy/xid-errors" },
	{ NP_KMSG_GPU_SXID, "^nvidia-nvswitch[0-9]+: SXid \\((PCI:)?([0-9a-fA-F:.]+)\\): ([0-9]+), ", { 2 }, 0, 3, 0, 0,
	  NULL, 0, "NVIDIA nvswitch driver: \"nvidia-nvswitch%d: SXid (PCI:%s): %05d, %s, …\" (Fatal / Non-fatal)" },
	{ NP_KMSG_GPU_RESET, "^amdgpu ([0-9a-fA-F:.]+): (amdgpu: )?GPU reset\\([0-9]+\\) (failed|succeeded)", { 1 }, 0, 3, 0, 0,
	  NULL, 0,
	  "drivers/gpu/drm/amd/amdgpu/amdgpu_device.c amdgpu_device_gpu_recover() / amdgpu_device_sched_resume(): "
	  "dev_info(\"GPU reset(%d) failed\\n\") / \"GPU reset(%d) succeeded!\\n\", 5.x+ (\"amdgpu: \" dev_fmt 5.9+)" },
	/* PCIe AER */
	{ NP_KMSG_AER_CORRECTABLE, DEV_PREFIX ".*(PCIe|CXL) Bus Error: severity=(Correct[^,]*)", { 3 }, 0, 5, 0, 0, NULL, 0,
	  "drivers/pci/pcie/aer.c aer_print_error(): \"%s Bus Error: severity=%s, type=%s, (%s)\", 3.x+ (\"AER: \" 4.17+)" },
	{ NP_KMSG_AER_UNCORRECTABLE, DEV_PREFIX ".*(PCIe|CXL) Bus Error: severity=(Uncorrect[^,]*)", { 3 }, 0, 5, 0, 0,
	  NULL, 0, "drivers/pci/pcie/aer.c aer_print_error(), 3.x+" },
	/* firmware */
	{ NP_KMSG_FIRMWARE_LOAD_FAILED, DEV_PREFIX ".*Direct firmware load for ([^ ]+) failed with error ", { 3 }, 0, 4, 0,
	  0, NULL, 0, "drivers/base/firmware_loader/main.c _request_firmware(), 3.x+" },
	{ NP_KMSG_FIRMWARE_LOAD_FAILED, DEV_PREFIX ".*firmware: failed to load ([^ ]+)", { 3 }, 0, 4, 0, 0, NULL, 0,
	  "Debian kernels' firmware_loader \"firmware: failed to load %s (%d)\"" },
	/* NIC links, last: the most general text */
	{ NP_KMSG_LINK_UP, "(^|[ ])([^ ]+) +(NIC +)?Link is +" UP, { 2 }, 0, 5, 0, 0, NULL, R_TRIM,
	  "NIC drivers: \"NIC Link is Up\" (e1000e, igb, ixgbe, i40e, ice, bnxt), \"Link is Up\" (phylib, r8169, tg3)" },
	{ NP_KMSG_LINK_DOWN, "(^|[ ])([^ ]+) +(NIC +)?Link is +" DOWN, { 2 }, 0, 5, 0, 0, NULL, R_TRIM,
	  "NIC drivers: \"NIC Link is Down\", \"Link is Down\"" },
	{ NP_KMSG_LINK_UP, "(^|[ ])([^ ]+): Link up$", { 2 }, 0, 0, 0, 0, NULL, 0,
	  "drivers/net/ethernet/mellanox/mlx5 mlx5e: \"Link up\"" },
	{ NP_KMSG_LINK_DOWN, "(^|[ ])([^ ]+): Link down$", { 2 }, 0, 0, 0, 0, NULL, 0,
	  "drivers/net/ethernet/mellanox/mlx5 mlx5e: \"Link down\"" },
};

#define NGROUPS 8
#define NEEDLE_MAX 64

static regex_t compiled[ARRAY_SIZE(rules)];
static char needles[ARRAY_SIZE(rules)][NEEDLE_MAX];

/* Past a quantifier (?, *, +, {m,n}) at @p, if any. */
static const char *skip_quantifier(const char *p)
{
	if (*p == '?' || *p == '*' || *p == '+')
		return p + 1;
	if (*p == '{') {
		const char *e = strchr(p, '}');
		return e ? e + 1 : p + strlen(p);
	}
	return p;
}

/* Past a bracket expression starting at @p ('['); "[]...]" and "[^]...]" hold a literal ']'. */
static const char *skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']')
		p++;
	return *p ? p + 1 : p;
}

/* Past a group starting at @p ('('), nested groups, brackets and escapes included. */
static const char *skip_group(const char *p)
{
	int depth = 0;
	while (*p) {
		if (*p == '\\' && p[1])
			p += 2;
		else if (*p == '[')
			p = skip_bracket(p);
		else if (*p == '(')
			depth++, p++;
		else if (*p == ')') {
			p++;
			if (--depth == 0)
				return p;
		} else
			p++;
	}
	return p;
}

size_t np_kmsg_re_needle(const char *re, char *buf, size_t size)
{
	char run[NEEDLE_MAX];
	size_t n = 0, best = 0;
	buf[0] = '\0';
	for (const char *p = re; *p;) { /* a '|' outside groups: no text is mandatory */
		if (*p == '\\' && p[1])
			p += 2;
		else if (*p == '[')
			p = skip_bracket(p);
		else if (*p == '(')
			p = skip_group(p);
		else if (*p++ == '|')
			return 0;
	}
	for (const char *p = re;; ) {
		bool lit = false, end_run = true;
		char c = 0;
		if (*p == '\\' && p[1]) {
			c = p[1], lit = true, p += 2;
		} else if (*p == '[') {
			p = skip_quantifier(skip_bracket(p));
		} else if (*p == '(') {
			p = skip_quantifier(skip_group(p));
		} else if (*p && !strchr(".^$?*+{}|)", *p)) {
			c = *p++, lit = true;
		} else if (*p) {
			p++;
		}
		if (lit) {
			end_run = false;
			if (*p == '?' || *p == '*' || *p == '{') { /* optional or counted: not mandatory as a run */
				p = skip_quantifier(p);
				lit = false, end_run = true;
			} else if (*p == '+') { /* at least once: in the run, which ends here */
				p++;
				end_run = true;
			}
		}
		if (lit && n < sizeof(run) - 1)
			run[n++] = c;
		if (end_run || !*p) {
			if (n > best && n < size) {
				memcpy(buf, run, n);
				buf[n] = '\0';
				best = n;
			}
			n = 0;
		}
		if (!*p)
			return best;
	}
}
/*
 * Rules are compiled lazily, each the first time its literal text is found in a message: glibc's
 * regcomp() of all 37 cost CPU and memory at every start, and most never see a matching line.
 * needles_done: the literal texts are found (once, cheap); rule_state[i]: 0 not compiled yet, 1
 * compiled, -EINVAL it does not compile (a bug: the unit test compiles every rule).
 */
static bool needles_done;
static int rule_state[ARRAY_SIZE(rules)];

static void find_needles(void)
{
	if (needles_done)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		np_kmsg_re_needle(rules[i].re, needles[i], sizeof(needles[i]));
	needles_done = true;
}

static int compile_rule(size_t i)
{
	if (!rule_state[i]) {
		int e = regcomp(&compiled[i], rules[i].re, REG_EXTENDED);
		if (e == REG_ESPACE)
			return -ENOMEM; /* not the rule's fault: compiled again at its next match */
		rule_state[i] = e == 0 ? 1 : -EINVAL;
	}
	return rule_state[i] < 0 ? rule_state[i] : 0;
}

void np_kmsg_rules_release(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		if (rule_state[i] > 0)
			regfree(&compiled[i]);
	memset(rule_state, 0, sizeof(rule_state));
}

size_t np_kmsg_rules_count(void)
{
	return ARRAY_SIZE(rules);
}

int np_kmsg_rule_info(size_t i, enum np_kmsg_kind *kind, const char **re, const char **origin)
{
	if (i >= ARRAY_SIZE(rules))
		return -ERANGE;
	*kind = rules[i].kind;
	*re = rules[i].re;
	*origin = rules[i].origin;
	return compile_rule(i);
}

/* A group's text, trailing ':' ',' '.' dropped (a device token); NULL when empty, unmatched or > 64. */
static char *token(const char *msg, const regmatch_t *g)
{
	if (g->rm_so < 0)
		return NULL;
	size_t n = (size_t)(g->rm_eo - g->rm_so);
	const char *s = msg + g->rm_so;
	while (n > 0 && (s[n - 1] == ':' || s[n - 1] == ',' || s[n - 1] == '.'))
		n--;
	if (n == 0 || n > 64)
		return NULL;
	return strndup(s, n);
}

static int detail_of(const struct kmsg_rule *r, const char *msg, const regmatch_t *g, char **out)
{
	*out = NULL;
	if (!r->detail || g[r->detail].rm_so < 0)
		return r->fixed_detail && !(*out = strdup(r->fixed_detail)) ? -ENOMEM : 0;
	const char *s = msg + g[r->detail].rm_so;
	size_t n = (size_t)(g[r->detail].rm_eo - g[r->detail].rm_so);
	if (r->flags & R_TRIM) {
		size_t k = strspn(s, " ,-");
		s += k < n ? k : n;
		n -= k < n ? k : n;
		n = n > 96 ? 96 : n;
	}
	if (!n)
		return 0;
	return (*out = strndup(s, n)) ? 0 : -ENOMEM;
}

/* Fill @m from rule @r's groups. Returns the kind, 0 when a group does not hold what it must, -ENOMEM. */
static int take(const struct kmsg_rule *r, const char *msg, const regmatch_t *g, struct np_kmsg_match *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(r->dev) && r->dev[i] && !m->device; i++)
		if (g[r->dev[i]].rm_so >= 0 && g[r->dev[i]].rm_eo > g[r->dev[i]].rm_so &&
		    !(m->device = token(msg, &g[r->dev[i]])))
			return 0;
	if (m->device && (r->flags & R_NVME_CTRL)) {
		char *c = np_nvme_controller_of(m->device);
		free(m->device);
		if (!(m->device = c))
			return 0;
	}
	if (r->map && g[r->map].rm_so >= 0 && !(m->map = strndup(msg + g[r->map].rm_so, g[r->map].rm_eo - g[r->map].rm_so)))
		return -ENOMEM;
	if (r->sector) {
		_cleanup_free_ char *s = strndup(msg + g[r->sector].rm_so, g[r->sector].rm_eo - g[r->sector].rm_so);
		if (!s)
			return -ENOMEM;
		if (np_parse_dec(s, UINT64_MAX, &m->sector) < 0)
			return 0;
		m->has_sector = true;
	}
	if (r->op && g[r->op].rm_so >= 0 && !(m->op = strndup(msg + g[r->op].rm_so, g[r->op].rm_eo - g[r->op].rm_so)))
		return -ENOMEM;
	if (detail_of(r, msg, g, &m->detail) < 0)
		return -ENOMEM;
	m->kind = r->kind;
	return r->kind;
}

int np_kmsg_classify(const char *message, struct np_kmsg_match *m)
{
	*m = (struct np_kmsg_match){ 0 };
	int r;
	find_needles();
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		regmatch_t g[NGROUPS];
		if (needles[i][0] && !strstr(message, needles[i]))
			continue;
		if ((r = compile_rule(i)) < 0)
			return r;
		if (regexec(&compiled[i], message, NGROUPS, g, 0) != 0)
			continue;
		r = take(&rules[i], message, g, m);
		if (r != 0) {
			if (r < 0)
				np_kmsg_match_free(m);
			return r;
		}
		np_kmsg_match_free(m); /* a group did not hold a device: the next rule may */
	}
	return NP_KMSG_NONE;
}
