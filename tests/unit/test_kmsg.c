// SPDX-License-Identifier: Apache-2.0
/*
 * /dev/kmsg record parser, classifier and follower: on a capture of this
 * machine's ring buffer (tests/kmsg_capture.py), on the exact lines of cases
 * 19, 21 and 22 in ../shared/cases, on lines built from the kernel's format
 * strings (dm-mpath.c, aer.c, scsi_lib.c/scsi_error.c/sd.c, NIC drivers,
 * firmware_loader/main.c), and on the live /dev/kmsg of this machine.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/kmsg.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FIX "tests/fixtures/storagelog-kmsg"

struct collect {
	struct np_kmsg_record recs[1024];
	size_t n;
};

static int keep(const struct np_kmsg_record *rec, void *ud)
{
	struct collect *c = ud;
	if (c->n < 1024) {
		struct np_kmsg_record *d = &c->recs[c->n++];
		*d = *rec;
		d->message = strdup(rec->message);
		d->dict = NULL;
		d->subsystem = d->device = NULL;
	}
	return 0;
}

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->recs[i].message);
	c->n = 0;
}

static size_t count_record_lines(const char *buf)
{
	size_t n = 0;
	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += (*p >= '0' && *p <= '9');
	return n;
}

static void test_capture_stream(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(FIX "/dev/kmsg", &len);
	struct collect *c = calloc(1, sizeof(*c));
	assert_int_equal(np_kmsg_parse_stream(buf, len, keep, c), 0);
	assert_true(c->n > 100);
	assert_int_equal(c->n, count_record_lines(buf));
	/* sequence numbers of one boot's buffer are consecutive */
	for (size_t i = 1; i < c->n; i++)
		assert_int_equal(c->recs[i].seq, c->recs[i - 1].seq + 1);
	/* record 0 is the kernel banner: "5,0,0,-;Linux version …" */
	assert_int_equal(c->recs[0].facility, 0);
	assert_int_equal(c->recs[0].level, 5);
	assert_true(strncmp(c->recs[0].message, "Linux version ", 14) == 0);
	/* this machine logs "rcu: \x09RCU restricting CPUs …": the tab is decoded */
	bool tab = false;
	for (size_t i = 0; i < c->n; i++)
		tab = tab || strncmp(c->recs[i].message, "rcu: \tRCU restricting", 21) == 0;
	assert_true(tab);
	/* no storage/NIC/PCIe trouble on this VM: nothing in its log may classify */
	for (size_t i = 0; i < c->n; i++) {
		struct np_kmsg_match m;
		assert_int_equal(np_kmsg_classify(c->recs[i].message, &m), NP_KMSG_NONE);
	}
	collect_free(c);
	free(c);
	free(buf);
}

/* the capture's records with a dictionary: SUBSYSTEM=/DEVICE= kept apart from the message */
static int find_dict(const struct np_kmsg_record *rec, void *ud)
{
	int *hits = ud;
	if (strcmp(rec->message, "acpi PNP0A08:00: _OSC: OS supports [ExtendedConfig ASPM ClockPM Segments MSI HPX-Type3]") == 0) {
		assert_string_equal(rec->subsystem, "acpi");
		assert_string_equal(rec->device, "+acpi:PNP0A08:00");
		assert_string_equal(rec->dict[0], "SUBSYSTEM=acpi");
		(*hits)++;
	}
	assert_null(strchr(rec->message, '\n'));
	return 0;
}

static void test_capture_dict(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(FIX "/dev/kmsg", &len);
	int hits = 0;
	assert_int_equal(np_kmsg_parse_stream(buf, len, find_dict, &hits), 0);
	assert_int_equal(hits, 1);
	free(buf);
}

/* case 19: continuation lines, escapes */
static void test_case19_record(void **state)
{
	(void)state;
	static const char raw[] = "3,114864,395145047,-;mlx5_core 0000:31:00.0 ens2f0: Recovered 1 eqes on EQ 0x3b\n"
				  " SUBSYSTEM=pci\n"
				  " DEVICE=+pci:0000:31:00.0\n";
	struct np_kmsg_record rec;
	assert_int_equal(np_kmsg_parse_record(raw, sizeof(raw) - 1, &rec), 0);
	assert_int_equal(rec.facility, 0);
	assert_int_equal(rec.level, 3);
	assert_int_equal(rec.seq, 114864);
	assert_int_equal(rec.ts_us, 395145047);
	assert_int_equal(rec.flags, '-');
	assert_string_equal(rec.message, "mlx5_core 0000:31:00.0 ens2f0: Recovered 1 eqes on EQ 0x3b");
	assert_string_equal(rec.subsystem, "pci");
	assert_string_equal(rec.device, "+pci:0000:31:00.0");
	struct np_kmsg_match m;
	assert_int_equal(np_kmsg_classify(rec.message, &m), NP_KMSG_NONE);
	np_kmsg_record_free(&rec);

	/* util-linux #1494: a multi-line printk, the inner newline escaped; a backslash as \x5c; caller id field */
	static const char ml[] = "4,7,7617794,-,caller=T1;TECH PREVIEW: Overlay filesystem may not be fully supported.\\x0a"
				 "Please review provided documentation for limitations. C:\\x5cpath\n";
	assert_int_equal(np_kmsg_parse_record(ml, sizeof(ml) - 1, &rec), 0);
	assert_string_equal(rec.message, "TECH PREVIEW: Overlay filesystem may not be fully supported.\n"
					 "Please review provided documentation for limitations. C:\\path");
	assert_int_equal(rec.seq, 7);
	np_kmsg_record_free(&rec);

	/* a line written to /dev/kmsg by a user process: facility 1 (user) */
	static const char user[] = "11,9,10,-;nodeprint-test: hello\n";
	assert_int_equal(np_kmsg_parse_record(user, sizeof(user) - 1, &rec), 0);
	assert_int_equal(rec.facility, 1);
	assert_int_equal(rec.level, 3);
	np_kmsg_record_free(&rec);
}

static void test_bad_records(void **state)
{
	(void)state;
	struct np_kmsg_record rec;
	static const char *const bad[] = {
		"", "no header at all\n", "3,1,2;missing flags\n", "3,x,2,-;bad seq\n", "3,1,2,--;long flags\n",
		"-3,1,2,-;negative\n", "3,1,99999999999999999999999,-;overflow\n", "3,1,2,-;msg\nnot a dict line\n",
		"3,1\n2,-;newline in header\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(np_kmsg_parse_record(bad[i], strlen(bad[i]), &rec), -EINVAL);
	assert_int_equal(np_kmsg_parse_record("3,1,2,-;a\0b\n", 12, &rec), -EINVAL);
	char *huge = malloc(NP_KMSG_RECORD_MAX + 2);
	memset(huge, 'a', NP_KMSG_RECORD_MAX + 1);
	memcpy(huge, "3,1,2,-;", 8);
	assert_int_equal(np_kmsg_parse_record(huge, NP_KMSG_RECORD_MAX + 1, &rec), -EFBIG);
	free(huge);
	/* no trailing newline: still one record */
	assert_int_equal(np_kmsg_parse_record("6,5,6,c;partial", 15, &rec), 0);
	assert_int_equal(rec.flags, 'c');
	assert_string_equal(rec.message, "partial");
	np_kmsg_record_free(&rec);
	/* a stream with garbage between real records: the garbage is counted, the records kept */
	static const char stream[] = "6,1,2,-;one\n \x01garbage\nxx\n6,2,3,-;two\n SUBSYSTEM=block\n";
	struct collect *c = calloc(1, sizeof(*c));
	assert_int_equal(np_kmsg_parse_stream(stream, sizeof(stream) - 1, keep, c), 2);
	assert_int_equal(c->n, 1);
	assert_string_equal(c->recs[0].message, "two");
	collect_free(c);
	free(c);
}

struct expect {
	const char *line;
	enum np_kmsg_kind kind;
	const char *device;
	const char *detail; /* NULL = not checked */
};

static void check(const struct expect *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct np_kmsg_match m;
		int k = np_kmsg_classify(e[i].line, &m);
		if (k != (int)e[i].kind)
			fail_msg("'%s': kind %s, want %s", e[i].line, np_kmsg_kind_name(k), np_kmsg_kind_name(e[i].kind));
		if (e[i].device) {
			if (!m.device || strcmp(m.device, e[i].device) != 0)
				fail_msg("'%s': device %s, want %s", e[i].line, m.device ? m.device : "(null)", e[i].device);
		}
		if (e[i].detail)
			assert_string_equal(m.detail, e[i].detail);
		np_kmsg_match_free(&m);
	}
}

/* case 22: the block layer's I/O error line in four kernel generations, and lines that are not it */
static void test_case22_io_error(void **state)
{
	(void)state;
	static const struct {
		const char *line, *dev, *op, *status;
		uint64_t sector;
	} v[] = {
		{ "blk_update_request: I/O error, dev mtdblock1, sector 0", "mtdblock1", NULL, "I/O", 0 },
		{ "print_req_error: I/O error, dev sdc, sector 1098288304 flags 0", "sdc", NULL, "I/O", 1098288304 },
		{ "blk_update_request: I/O error, dev mmcblk2, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
		  "mmcblk2", "READ", "I/O", 0 },
		{ "I/O error, dev sda, sector 2466368 op 0x1:(WRITE) flags 0x4000 phys_seg 273 prio class 2", "sda", "WRITE",
		  "I/O", 2466368 },
		{ "I/O error, dev nvme0n1, sector 1336320 op 0x0:(READ) flags 0x80700 phys_seg 4 prio class 2", "nvme0n1",
		  "READ", "I/O", 1336320 },
		/* blk_status_to_str(): the same line with another status (block/blk-core.c blk_errors[]) */
		{ "critical medium error, dev sdb, sector 4096 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0", "sdb",
		  "READ", "critical medium", 4096 },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct np_kmsg_match m;
		assert_int_equal(np_kmsg_classify(v[i].line, &m), NP_KMSG_IO_ERROR);
		assert_string_equal(m.device, v[i].dev);
		assert_true(m.has_sector);
		assert_int_equal(m.sector, v[i].sector);
		if (v[i].op)
			assert_string_equal(m.op, v[i].op);
		else
			assert_null(m.op);
		assert_string_equal(m.detail, v[i].status);
		np_kmsg_match_free(&m);
	}
	static const struct expect ctx[] = {
		{ "Buffer I/O error on dev sda8, logical block 8388772, lost async page write", NP_KMSG_NONE, NULL, NULL },
		{ "Buffer I/O error on device dm-8, logical block 96511296", NP_KMSG_NONE, NULL, NULL },
		{ "EXT4-fs warning (device sda): ext4_end_bio:342: I/O error 10 writing to inode 13 starting block 308296)",
		  NP_KMSG_NONE, NULL, NULL },
		{ "sd 2:0:0:1: [sda] tag#35 CDB: Write(10) 2a 00 00 25 aa c8 00 08 08 00", NP_KMSG_NONE, NULL, NULL },
	};
	check(ctx, sizeof(ctx) / sizeof(ctx[0]));
}

/* case 22: the NVMe timeout -> abort -> reset ladder; nvme2n1 and "nvme nvme2" are the same controller */
static void test_case22_nvme(void **state)
{
	(void)state;
	static const struct expect v[] = {
		{ "nvme nvme0: I/O 12 QID 5 timeout, aborting", NP_KMSG_NVME_TIMEOUT, "nvme0", "aborting" },
		{ "nvme nvme0: Abort status: 0x0", NP_KMSG_NVME_ABORT, "nvme0", "status: 0x0" },
		{ "nvme nvme0: I/O 900 (I/O Cmd) QID 2 timeout, aborting", NP_KMSG_NVME_TIMEOUT, "nvme0", "aborting" },
		{ "nvme nvme0: I/O 900 QID 2 timeout, reset controller", NP_KMSG_NVME_RESET, "nvme0", "reset controller" },
		{ "nvme0n1: I/O Cmd(0x2) @ LBA 1336320, 32 blocks, I/O Error (sct 0x3 / sc 0x71)", NP_KMSG_NONE, NULL, NULL },
		{ "nvme nvme0: 2/0/0 default/read/poll queues", NP_KMSG_NONE, NULL, NULL },
		{ "nvme nvme0: I/O 111 QID 1 timeout, disable controller", NP_KMSG_NVME_RESET, "nvme0", "disable controller" },
		{ "nvme nvme2: I/O 0 QID 0 timeout, reset controller", NP_KMSG_NVME_RESET, "nvme2", "reset controller" },
		{ "nvme nvme2: Device not ready; aborting reset", NP_KMSG_NVME_RESET, "nvme2", "reset failed" },
		{ "nvme nvme2: Removing after probe failure status: -19", NP_KMSG_NVME_RESET, "nvme2", NULL },
		{ "nvme2n1: detected capacity change from 800166076416 to 0", NP_KMSG_NVME_RESET, "nvme2", NULL },
		/* 6.x drivers/nvme/host/pci.c format: tag, command id, opcode name, request op */
		{ "nvme nvme1: I/O tag 71 (1047) opcode 0x2 (Read) QID 3 timeout, aborting req_op:READ(0) size:131072",
		  NP_KMSG_NVME_TIMEOUT, "nvme1", "aborting" },
		{ "nvme nvme1: I/O tag 71 (1047) opcode 0x2 (Read) QID 3 timeout, reset controller", NP_KMSG_NVME_RESET,
		  "nvme1", "reset controller" },
		{ "nvme nvme0: controller is down; will reset: CSTS=0xffffffff, PCI_STATUS=0xffff", NP_KMSG_NVME_RESET,
		  "nvme0", "controller is down" },
		{ "nvme1n1: detected capacity change from 0 to 2097152", NP_KMSG_NONE, NULL, NULL },
	};
	check(v, sizeof(v) / sizeof(v[0]));
	char *c = np_nvme_controller_of("nvme2n1");
	assert_string_equal(c, "nvme2");
	free(c);
	c = np_nvme_controller_of("nvme0c1n1");
	assert_string_equal(c, "nvme1");
	free(c);
	assert_null(np_nvme_controller_of("nvme"));
	assert_null(np_nvme_controller_of("nvme0n1p1"));
}

/* drivers/md/dm-mpath.c fail_path()/reinstate_path(): with the map's maj:min (4.x+) and without (older) */
static void test_multipath(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		enum np_kmsg_kind kind;
		const char *dev, *map;
	} v[] = {
		{ "device-mapper: multipath: 254:0: Failing path 8:16.", NP_KMSG_PATH_FAILED, "8:16", "254:0" },
		{ "device-mapper: multipath: 253:3: Reinstating path 65:32.", NP_KMSG_PATH_REINSTATED, "65:32", "253:3" },
		{ "device-mapper: multipath: Failing path 8:32.", NP_KMSG_PATH_FAILED, "8:32", NULL },
		{ "device-mapper: multipath: Reinstating path 8:32.", NP_KMSG_PATH_REINSTATED, "8:32", NULL },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct np_kmsg_match m;
		assert_int_equal(np_kmsg_classify(v[i].line, &m), v[i].kind);
		assert_string_equal(m.device, v[i].dev);
		if (v[i].map)
			assert_string_equal(m.map, v[i].map);
		else
			assert_null(m.map);
		np_kmsg_match_free(&m);
	}
	static const struct expect no[] = {
		{ "device-mapper: multipath: version 1.14.0 loaded", NP_KMSG_NONE, NULL, NULL },
		{ "device-mapper: multipath round-robin: version 1.2.0 loaded", NP_KMSG_NONE, NULL, NULL },
		{ "multipathd: sdb: mark as failed", NP_KMSG_NONE, NULL, NULL },
	};
	check(no, sizeof(no) / sizeof(no[0]));
}

static void test_scsi_aer_link_firmware(void **state)
{
	(void)state;
	static const struct expect v[] = {
		{ "sd 2:0:0:1: [sda] tag#35 FAILED Result: hostbyte=DID_TIME_OUT driverbyte=DRIVER_OK cmd_age=30s",
		  NP_KMSG_SCSI_TIMEOUT, "sda", "DID_TIME_OUT" },
		{ "sd 2:0:0:0: [sdb] tag#0 timing out command, waited 180s", NP_KMSG_SCSI_TIMEOUT, "sdb", NULL },
		{ "sd 0:0:0:0: Device offlined - not ready after error recovery", NP_KMSG_SCSI_OFFLINE, "0:0:0:0", NULL },
		{ "sd 2:0:0:0: [sda] Medium access timeout failure. Offlining disk!", NP_KMSG_SCSI_OFFLINE, "sda", NULL },
		{ "sd 3:0:0:0: rejecting I/O to offline device", NP_KMSG_SCSI_OFFLINE, "3:0:0:0", NULL },
		{ "pcieport 0000:00:1c.0: AER: PCIe Bus Error: severity=Correctable, type=Physical Layer, (Receiver ID)",
		  NP_KMSG_AER_CORRECTABLE, "0000:00:1c.0", "Correctable" },
		{ "pcieport 0000:00:03.0: PCIe Bus Error: severity=Corrected, type=Physical Layer, id=0018(Receiver ID)",
		  NP_KMSG_AER_CORRECTABLE, "0000:00:03.0", "Corrected" },
		{ "virtio-pci 0000:01:00.0: AER: PCIe Bus Error: severity=Uncorrectable (Non-Fatal), type=Transaction Layer, (Requester ID)",
		  NP_KMSG_AER_UNCORRECTABLE, "0000:01:00.0", "Uncorrectable (Non-Fatal)" },
		{ "pcieport 0000:00:02.0: PCIe Bus Error: severity=Uncorrected (Fatal), type=Transaction Layer, id=0010(Receiver ID)",
		  NP_KMSG_AER_UNCORRECTABLE, "0000:00:02.0", "Uncorrected (Fatal)" },
		{ "pcieport 0000:00:1c.0: AER: Corrected error message received from 0000:00:1c.0", NP_KMSG_NONE, NULL, NULL },
		{ "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx", NP_KMSG_LINK_UP,
		  "eth0", "1000 Mbps Full Duplex, Flow Control: Rx/Tx" },
		{ "e1000e: eth0 NIC Link is Down", NP_KMSG_LINK_DOWN, "eth0", NULL },
		{ "ixgbe 0000:01:00.0 eth2: NIC Link is Up 10 Gbps, Flow Control: RX/TX", NP_KMSG_LINK_UP, "eth2", NULL },
		{ "igb 0000:03:00.0 eno1: igb: eno1 NIC Link is Down", NP_KMSG_LINK_DOWN, "eno1", NULL },
		{ "ice 0000:3b:00.0 ens1f0: NIC Link is up 25 Gbps Full Duplex, Requested FEC: RS-FEC", NP_KMSG_LINK_UP,
		  "ens1f0", NULL },
		{ "r8169 0000:02:00.0 enp2s0: Link is Up - 1Gbps/Full - flow control rx/tx", NP_KMSG_LINK_UP, "enp2s0",
		  "1Gbps/Full - flow control rx/tx" },
		{ "tg3 0000:02:00.0 eth0: Link is down", NP_KMSG_LINK_DOWN, "eth0", NULL },
		{ "mlx5_core 0000:31:00.0 ens2f0: Link down", NP_KMSG_LINK_DOWN, "ens2f0", NULL },
		{ "mlx5_core 0000:31:00.0 ens2f0: Link up", NP_KMSG_LINK_UP, "ens2f0", NULL },
		{ "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready", NP_KMSG_NONE, NULL, NULL },
		{ "iwlwifi 0000:02:00.0: Direct firmware load for iwlwifi-9000-pu-b0-jf-b0-46.ucode failed with error -2",
		  NP_KMSG_FIRMWARE_LOAD_FAILED, "0000:02:00.0", "iwlwifi-9000-pu-b0-jf-b0-46.ucode" },
		{ "bluetooth hci0: firmware: failed to load intel/ibt-12-16.sfi (-2)", NP_KMSG_FIRMWARE_LOAD_FAILED, "hci0",
		  "intel/ibt-12-16.sfi" },
		{ "iwlwifi 0000:02:00.0: loaded firmware version 46.6b541b68.0", NP_KMSG_NONE, NULL, NULL },
	};
	check(v, sizeof(v) / sizeof(v[0]));
}

/*
 * Regression: the rules missed the older dm-multipath form and the transport failures that precede
 * path loss. Each line is built from the kernel's or driver's own format string (kmsg_rules.c names
 * the function and the kernels), printed as dev_printk()/ql_log() print them.
 */
static void test_rules_from_format_strings(void **state)
{
	(void)state;
	char qla[160], conn[96], sess[96], hung[128], old_mp[96], old_mp2[96];
	/* drivers/md/dm-mpath.c 2.6.12-2.6.18: DMWARN("dm-multipath: Failing path %s.") after "device-mapper: " */
	snprintf(old_mp, sizeof(old_mp), "device-mapper: " "dm-multipath: Failing path %s.", "8:32");
	snprintf(old_mp2, sizeof(old_mp2), "device-mapper: multipath: " "dm-multipath: Failing path %s.", "8:32");
	/* qla2xxx ql_log(): "%s [%s]-%04x:%ld: " + qla_isr.c "LOOP DOWN detected (%x %x %x %x).\n" */
	int n = snprintf(qla, sizeof(qla), "%s [%s]-%04x:%ld: " "LOOP DOWN detected (%x %x %x %x).\n", "qla2xxx",
			 "0000:81:00.0", 0x500b, 3L, 2, 0, 0, 0);
	qla[n - 1] = '\0'; /* /dev/kmsg drops the newline */
	/* scsi_transport_iscsi.c: iscsi_cls_conn_printk() is dev_printk("%s %s: ") with no driver name */
	snprintf(conn, sizeof(conn), "%s %s: " "detected conn error (%d)", "", "connection1:0", 1021);
	snprintf(sess, sizeof(sess), "%s %s: " "session recovery timed out after %d secs", "", "session1", 120);
	/* kernel/hung_task.c check_hung_task() */
	snprintf(hung, sizeof(hung), "INFO: task %s:%d blocked for more than %ld seconds.", "kworker/u16:2", 1234, 122L);
	const struct expect v[] = {
		{ old_mp, NP_KMSG_PATH_FAILED, "8:32", NULL },
		{ old_mp2, NP_KMSG_PATH_FAILED, "8:32", NULL },
		{ qla, NP_KMSG_FC_LINK_DOWN, "0000:81:00.0", "LOOP DOWN" },
		{ conn, NP_KMSG_ISCSI_CONN_ERROR, "connection1:0", "1021" },
		{ sess, NP_KMSG_ISCSI_SESSION_TIMEOUT, "session1", "120 secs" },
		{ hung, NP_KMSG_HUNG_TASK, "kworker/u16:2:1234", "122 seconds" },
		{ "sd 2:0:0:1: [sda] tag#35 FAILED Result: hostbyte=DID_TRANSPORT_DISRUPTED driverbyte=DRIVER_OK cmd_age=263s",
		  NP_KMSG_SCSI_TRANSPORT, "sda", "DID_TRANSPORT_DISRUPTED" },
		{ "qla2xxx [0000:81:00.0]-500b:3: LOOP UP detected (8 Gbps).", NP_KMSG_NONE, NULL, NULL },
		{ " connection1:0: ping timeout of 5 secs expired, recv timeout 5, last rx 4295", NP_KMSG_NONE, NULL, NULL },
	};
	check(v, sizeof(v) / sizeof(v[0]));
	struct np_kmsg_match m;
	assert_int_equal(np_kmsg_classify(old_mp, &m), NP_KMSG_PATH_FAILED);
	assert_null(m.map);
	np_kmsg_match_free(&m);
	/* the table: every rule compiles, names its origin, and every kind has a rule */
	bool has[NP_KMSG_KIND_MAX] = { false };
	for (size_t i = 0; i < np_kmsg_rules_count(); i++) {
		enum np_kmsg_kind k;
		const char *re, *origin;
		assert_int_equal(np_kmsg_rule_info(i, &k, &re, &origin), 0);
		assert_true(k > NP_KMSG_NONE && k < NP_KMSG_KIND_MAX);
		assert_true(strlen(origin) > 10);
		char needle[64];
		assert_true(np_kmsg_re_needle(re, needle, sizeof(needle)) >= 4); /* every rule is prefiltered */
		has[k] = true;
	}
	for (int k = NP_KMSG_NONE + 1; k < NP_KMSG_KIND_MAX; k++)
		if (!has[k])
			fail_msg("kind %s has no rule", np_kmsg_kind_name(k));
	enum np_kmsg_kind k;
	const char *re, *origin;
	assert_int_equal(np_kmsg_rule_info(np_kmsg_rules_count(), &k, &re, &origin), -ERANGE);
}

/*
 * Regression: 10,000 identical matches in a second became 256 separate events (the ring's size).
 * They are one event whose count is the number of records, and matched counts every one.
 */
static void test_storm_is_one_event(void **state)
{
	(void)state;
	struct np_kmsg s = { .max_events = 256 };
	for (unsigned i = 0; i < 10000; i++) {
		struct np_kmsg_record rec = { .seq = 1000 + i, .ts_us = 5000000 + i * 100, .level = 4,
					      .message = (char *)"device-mapper: multipath: 254:0: Failing path 8:16." };
		struct np_kmsg_event *e = NULL;
		assert_int_equal(np_kmsg_add_record(&s, &rec, 0, &e), 1);
		assert_int_equal(e->last_seq, rec.seq);
	}
	struct np_kmsg_record other = { .seq = 20000, .ts_us = 7000000,
					.message = (char *)"device-mapper: multipath: 254:0: Reinstating path 8:16." };
	assert_int_equal(np_kmsg_add_record(&s, &other, 0, NULL), 1);
	assert_int_equal(s.matched, 10001);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.events[0].count, 10000);
	assert_int_equal(s.events[0].seq, 1000);
	assert_int_equal(s.events[0].last_seq, 10999);
	assert_int_equal(s.events[0].last_monotonic_us, 5000000 + 9999 * 100);
	assert_int_equal(s.events[1].count, 1);
	json_t *j = np_kmsg_to_json(&s);
	json_t *e0 = json_array_get(json_object_get(j, "events"), 0);
	assert_int_equal(json_integer_value(json_object_get(e0, "count")), 10000);
	assert_int_equal(json_integer_value(json_object_get(e0, "last_seq")), 10999);
	json_decref(j);
	/* a repeat of the oldest moves it to the end: eviction drops the least recent */
	struct np_kmsg_record again = { .seq = 20001, .ts_us = 8000000,
					.message = (char *)"device-mapper: multipath: 254:0: Failing path 8:16." };
	assert_int_equal(np_kmsg_add_record(&s, &again, 0, NULL), 1);
	assert_int_equal(s.events[1].count, 10001);
	assert_int_equal(s.events[0].seq, 20000);
	np_kmsg_free(&s);
}

/* case 21: monotonic stamps; wall time is an estimate from CLOCK_MONOTONIC, never boot time + stamp */
static void test_case21_wall_estimate(void **state)
{
	(void)state;
	/* record at 395 s; agent starts at monotonic 400 s; 10 h of suspend make BOOTTIME 36000 s ahead */
	const int64_t now_real_ms = 1700000000000LL;
	const uint64_t now_mono_us = 400ULL * 1000000;
	int64_t off = np_kmsg_wall_offset_ms(now_real_ms, now_mono_us);
	struct np_kmsg s = { .max_events = 4 };
	struct np_kmsg_record rec = { .seq = 1, .ts_us = 395ULL * 1000000, .level = 3,
				      .message = (char *)"I/O error, dev sda, sector 8 op 0x1:(WRITE) flags 0x0 phys_seg 1 prio class 2" };
	assert_int_equal(np_kmsg_add_record(&s, &rec, off, NULL), 1);
	assert_int_equal(s.events[0].wall_estimate_ms, now_real_ms - 5000);
	assert_int_equal(s.events[0].monotonic_us, 395ULL * 1000000);
	np_kmsg_free(&s);
}

static void test_event_ring(void **state)
{
	(void)state;
	struct np_kmsg s = { .max_events = 3 };
	char msg[128];
	for (unsigned i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "nvme nvme%u: I/O %u QID 1 timeout, aborting", i, i);
		struct np_kmsg_record rec = { .seq = 100 + i, .ts_us = i, .message = msg, .subsystem = "nvme" };
		assert_int_equal(np_kmsg_add_record(&s, &rec, 0, NULL), 1);
		struct np_kmsg_record none = { .seq = 200 + i, .message = (char *)"hello" };
		assert_int_equal(np_kmsg_add_record(&s, &none, 0, NULL), 0);
	}
	assert_int_equal(s.matched, 10);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.events[0].seq, 107);
	assert_string_equal(s.events[2].device, "nvme9");
	assert_string_equal(s.events[2].subsystem, "nvme");
	assert_int_equal(s.events[2].wall_estimate_ms, 0);
	json_t *j = np_kmsg_to_json(&s);
	json_t *e = json_array_get(json_object_get(j, "events"), 2);
	assert_string_equal(json_string_value(json_object_get(e, "kind")), "nvme_timeout");
	assert_true(json_is_null(json_object_get(e, "wall_estimate_ms")));
	json_decref(j);
	np_kmsg_free(&s);
}

/* the collector on the capture (a regular file under the host root is read as a stream) */
static void test_collect_fixture(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(FIX "/dev/kmsg", &len);
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src(FIX)), 0);
	struct np_collect_ctx ctx = { .host = &h, .kmsg_max = 16 };
	struct np_report r = { 0 };
	char *only[] = { "kmsg", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.kmsg.status.err, 0);
	assert_int_equal(r.kmsg.records_read, count_record_lines(buf));
	assert_int_equal(r.kmsg.lost, 0);
	assert_int_equal(r.kmsg.first_seq, 0);
	assert_int_equal(r.kmsg.last_seq, count_record_lines(buf) - 1);
	assert_int_equal(r.kmsg.matched, 0);
	assert_false(r.kmsg.wall_clock_estimated);
	np_report_free(&r);
	np_host_close(&h);
	free(buf);
}

static int count_cb(const struct np_kmsg_record *rec, void *ud)
{
	(void)rec;
	(*(int *)ud)++;
	return 0;
}

/* A host root under /tmp (@tmpl, a mkdtemp template) with a dev/ folder (@dir); @path its dev/kmsg. */
static void capture_root(char *tmpl, char dir[256], char path[300])
{
	assert_non_null(mkdtemp(tmpl));
	snprintf(dir, 256, "%s/dev", tmpl);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, 300, "%s/kmsg", dir);
}

/* a follower over the capture with records 10..14 cut out: 5 lost, not replayed on a second read */
static void test_follower_gap_and_replay(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(FIX "/dev/kmsg", &len);
	char tmpl[] = "/tmp/np-kmsg-XXXXXX", dir[256], path[300];
	capture_root(tmpl, dir, path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	unsigned rec = 0;
	for (char *p = buf; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (*p >= '0' && *p <= '9')
			rec++;
		if (rec < 11 || rec > 15)
			fwrite(p, 1, l, f);
		p += l;
	}
	fclose(f);
	struct np_host h;
	assert_int_equal(np_host_open(&h, tmpl), 0);
	struct np_kmsg_follower fo;
	assert_int_equal(np_kmsg_follower_open(&fo, &h, NULL), 0);
	assert_true(fo.stream);
	int n = 0;
	int got = np_kmsg_follower_read(&fo, count_cb, &n);
	assert_int_equal(got, (int)rec - 5);
	assert_int_equal(n, got);
	assert_int_equal(fo.lost, 5);
	/* read again: everything is known, nothing is replayed */
	n = 0;
	assert_int_equal(np_kmsg_follower_read(&fo, count_cb, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fo.duplicates, (uint64_t)rec - 5);
	np_kmsg_follower_close(&fo);
	np_host_close(&h);
	unlink(path);
	rmdir(dir);
	rmdir(tmpl);
	free(buf);
}

/* the collector feeds dm-mpath's path events to the flap tracker (pkg/collect/flaps.h) */
static void test_collect_path_flaps(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(FIX "/dev/kmsg", &len);
	char tmpl[] = "/tmp/np-kmsg-XXXXXX", dir[256], path[300];
	capture_root(tmpl, dir, path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(buf, 1, len, f);
	/* after the capture: dm-mpath.c's lines, with the map prefix (4.x+) and without (older) */
	fputs("4,100000,4000000000,-;device-mapper: multipath: 254:0: Failing path 8:16.\n"
	      "4,100001,4005000000,-;device-mapper: multipath: 254:0: Reinstating path 8:16.\n"
	      "4,100002,4006000000,-;device-mapper: multipath: 254:0: Failing path 8:16.\n"
	      "4,100003,4010000000,-;device-mapper: multipath: 254:0: Reinstating path 8:16.\n"
	      "4,100004,4011000000,-;device-mapper: multipath: Failing path 8:32.\n"
	      "4,100005,4012000000,-;device-mapper: multipath: Reinstating path 8:32.\n", f);
	fclose(f);
	struct np_host h;
	assert_int_equal(np_host_open(&h, tmpl), 0);
	struct np_collect_ctx ctx = { .host = &h, .kmsg_max = 4 };
	struct np_report r = { 0 };
	char *only[] = { "kmsg", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.kmsg.matched, 6);
	assert_int_equal(r.kmsg.n, 4);          /* only the newest 4 kept ... */
	assert_int_equal(r.kmsg.n_flaps, 2);    /* ... but every path event was counted */
	assert_string_equal(r.kmsg.flaps[0].map, "254:0");
	assert_int_equal(r.kmsg.flaps[0].total, 2);
	assert_int_equal(r.kmsg.flaps[0].in_window, 2);
	assert_string_equal(r.kmsg.flaps[1].map, "?");
	assert_int_equal(r.kmsg.flaps[1].total, 1);
	assert_int_equal(r.kmsg.lost, 100000 - count_record_lines(buf));
	json_t *j = np_kmsg_to_json(&r.kmsg);
	json_t *pf = json_array_get(json_object_get(j, "path_flaps"), 0);
	assert_int_equal(json_integer_value(json_object_get(pf, "flaps_total")), 2);
	json_decref(j);
	np_report_free(&r);
	np_host_close(&h);
	unlink(path);
	rmdir(dir);
	rmdir(tmpl);
	free(buf);
}

/* Write @buf and then @extra to @path (a capture under a host root). */
static void write_capture(const char *path, const char *buf, size_t len, const char *extra)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(buf, 1, len, f);
	fputs(extra, f);
	fclose(f);
}

/*
 * The agent's kmsg section keeps its reader and events across cycles and reads only the new records:
 * after records are appended, its report holds the same events, counts and flaps as one fresh read of
 * the whole capture, and the records of the first cycle are neither classified nor counted twice.
 */
static void test_collect_incremental(void **state)
{
	(void)state;
	static const char *const first = "4,100000,4000000000,-;device-mapper: multipath: 254:0: Failing path 8:16.\n"
					  "3,100001,4001000000,-;I/O error, dev sdc, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2\n";
	static const char *const then = "4,100002,4005000000,-;device-mapper: multipath: 254:0: Reinstating path 8:16.\n"
					"3,100003,4006000000,-;I/O error, dev sdc, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2\n";
	size_t len;
	char *buf = np_slurp(FIX "/dev/kmsg", &len);
	char tmpl[] = "/tmp/np-kmsg-XXXXXX", dir[256], path[300];
	capture_root(tmpl, dir, path);
	write_capture(path, buf, len, first);
	struct np_host h;
	assert_int_equal(np_host_open(&h, tmpl), 0);
	struct np_collect_ctx ctx = { .host = &h, .kmsg_max = 16 };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	char *only[] = { "kmsg", NULL };
	struct np_report r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, fresh = { 0 };
	assert_int_equal(np_collect_all(&ctx, only, &r1), 0);
	assert_int_equal(r1.kmsg.matched, 2);
	assert_int_equal(r1.kmsg.records_read, count_record_lines(buf) + 2);
	/* two records more: the next cycle reads those two */
	char both[1024];
	snprintf(both, sizeof(both), "%s%s", first, then);
	write_capture(path, buf, len, both);
	assert_int_equal(np_collect_all(&ctx, only, &r2), 0);
	struct np_collect_ctx one = { .host = &h, .kmsg_max = 16 };
	assert_int_equal(np_collect_all(&one, only, &fresh), 0);
	assert_int_equal(r2.kmsg.records_read, fresh.kmsg.records_read);
	assert_int_equal(r2.kmsg.last_seq, 100003);
	assert_int_equal(r2.kmsg.matched, fresh.kmsg.matched);
	assert_int_equal(r2.kmsg.matched, 4);
	assert_int_equal(r2.kmsg.n, fresh.kmsg.n);
	assert_int_equal(r2.kmsg.n, 3); /* the second I/O error adds to the first one's count */
	for (size_t i = 0; i < r2.kmsg.n; i++) {
		assert_int_equal(r2.kmsg.events[i].kind, fresh.kmsg.events[i].kind);
		assert_int_equal(r2.kmsg.events[i].seq, fresh.kmsg.events[i].seq);
		assert_int_equal(r2.kmsg.events[i].count, fresh.kmsg.events[i].count);
		assert_int_equal(r2.kmsg.events[i].last_seq, fresh.kmsg.events[i].last_seq);
		assert_string_equal(r2.kmsg.events[i].message, fresh.kmsg.events[i].message);
	}
	assert_int_equal(r2.kmsg.events[2].count, 2);
	assert_int_equal(fresh.kmsg.n_flaps, 1);
	assert_int_equal(r2.kmsg.n_flaps, 1);
	assert_int_equal(r2.kmsg.flaps[0].total, 1);
	/* nothing new: the same report again, the flap not counted twice */
	assert_int_equal(np_collect_all(&ctx, only, &r3), 0);
	assert_int_equal(r3.kmsg.records_read, r2.kmsg.records_read);
	assert_int_equal(r3.kmsg.matched, 4);
	assert_int_equal(r3.kmsg.n, 3);
	assert_int_equal(r3.kmsg.flaps[0].total, 1);
	assert_int_equal(r3.kmsg.flaps[0].in_window, 1);
	np_report_free(&r1);
	np_report_free(&r2);
	np_report_free(&r3);
	np_report_free(&fresh);
	np_section_states_free(ctx.states);
	np_host_close(&h);
	unlink(path);
	rmdir(dir);
	rmdir(tmpl);
	free(buf);
}

struct find_text {
	const char *text;
	uint64_t seq;
	int hits, total;
};

static int find_text_cb(const struct np_kmsg_record *rec, void *ud)
{
	struct find_text *ft = ud;
	ft->total++;
	if (strcmp(rec->message, ft->text) == 0) {
		ft->hits++;
		ft->seq = rec->seq;
	}
	return 0;
}

/* the live /dev/kmsg of this machine: read to EAGAIN, then exactly the new record, never an old one */
static void test_follower_live(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	struct np_kmsg_follower f;
	int r = np_kmsg_follower_open(&f, &h, NULL);
	if (r < 0)
		fail_msg("/dev/kmsg: %s (this test needs root)", strerror(-r));
	assert_false(f.stream);
	char text[96];
	snprintf(text, sizeof(text), "nodeprint-test: follower %d %ld", getpid(), (long)time(NULL));
	struct find_text ft = { .text = text };
	assert_true(np_kmsg_follower_read(&f, find_text_cb, &ft) > 0);
	assert_int_equal(ft.hits, 0);
	uint64_t last = f.last_seq;
	int w = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	assert_true(w >= 0);
	char line[128];
	int ll = snprintf(line, sizeof(line), "<6>%s\n", text);
	assert_int_equal(write(w, line, (size_t)ll), ll);
	close(w);
	ft.total = 0;
	assert_true(np_kmsg_follower_read(&f, find_text_cb, &ft) >= 1);
	assert_int_equal(ft.hits, 1);
	assert_true(ft.seq > last);
	/* a new follower that keeps the old position (agent restart with saved seq) replays nothing */
	struct np_kmsg_follower g;
	assert_int_equal(np_kmsg_follower_open(&g, &h, NULL), 0);
	g.have_seq = true;
	g.last_seq = f.last_seq;
	struct find_text ft2 = { .text = text };
	np_kmsg_follower_read(&g, find_text_cb, &ft2);
	assert_int_equal(ft2.hits, 0);
	assert_true(g.duplicates > 0);
	np_kmsg_follower_close(&g);
	np_kmsg_follower_close(&f);
	np_host_close(&h);
}

/* The mandatory literal text of a pattern: what strstr() may require before regexec() runs. */
static void test_re_needle(void **state)
{
	(void)state;
	static const struct {
		const char *re, *want;
	} cases[] = {
		{ "^nvme (nvme[0-9]+): I/O .*QID [0-9]+ timeout, reset controller", " timeout, reset controller" },
		{ "ab?cd", "cd" },            /* b optional: "a" and "cd" are the runs */
		{ "fo+barbaz", "barbaz" },    /* o at least once: "fo" ends there */
		{ "a{2}bc", "bc" },
		{ "x*yz", "yz" },
		{ "[]x]yz", "yz" },           /* a ']' first in a bracket is literal */
		{ "[^]x]+uv", "uv" },
		{ "\\(lit\\.\\)", "(lit.)" }, /* escaped: literal */
		{ "(a|b)cde(f|g)?", "cde" },  /* alternation inside groups only */
		{ "abc|defg", "" },           /* top-level alternation: nothing is mandatory */
		{ "(abc)", "" },
		{ "^$", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char b[64];
		size_t n = np_kmsg_re_needle(cases[i].re, b, sizeof(b));
		assert_string_equal(b, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
	char small[4]; /* a run longer than the buffer is not taken */
	assert_int_equal(np_kmsg_re_needle("abcdef", small, sizeof(small)), 0);
	assert_string_equal(small, "");
}

/* A one-shot run frees the compiled rules once the log is read; a later message compiles them again. */
static void test_rules_release(void **state)
{
	(void)state;
	static const char *const line = "blk_update_request: I/O error, dev sdc, sector 2048 op 0x0:(READ) flags 0x0";
	for (int i = 0; i < 2; i++) {
		struct np_kmsg_match m;
		assert_int_equal(np_kmsg_classify(line, &m), NP_KMSG_IO_ERROR);
		assert_string_equal(m.device, "sdc");
		assert_true(m.has_sector && m.sector == 2048);
		np_kmsg_match_free(&m);
		np_kmsg_rules_release();
	}
	np_kmsg_rules_release(); /* nothing compiled: nothing to free */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_from_format_strings),
		cmocka_unit_test(test_storm_is_one_event),
		cmocka_unit_test(test_capture_stream),
		cmocka_unit_test(test_capture_dict),
		cmocka_unit_test(test_case19_record),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_case22_io_error),
		cmocka_unit_test(test_case22_nvme),
		cmocka_unit_test(test_multipath),
		cmocka_unit_test(test_scsi_aer_link_firmware),
		cmocka_unit_test(test_case21_wall_estimate),
		cmocka_unit_test(test_event_ring),
		cmocka_unit_test(test_collect_fixture),
		cmocka_unit_test(test_follower_gap_and_replay),
		cmocka_unit_test(test_collect_path_flaps),
		cmocka_unit_test(test_collect_incremental),
		cmocka_unit_test(test_rules_release),
		cmocka_unit_test(test_re_needle),
		cmocka_unit_test(test_follower_live),
	};
	return cmocka_run_group_tests_name("kmsg", tests, NULL, NULL);
}
