/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interrupts.h - parsers for /proc/interrupts and the cpuN lines of /proc/stat,
 * used by the net collector (NIC IRQ lines, softirq share per CPU). Exposed
 * for tests and fuzzing.
 */
#pragma once

#include "../report/net.h"
#include "../shared/hostfs.h"
#include "../shared/u64block.h"

#include <stddef.h>
#include <stdint.h>

/* Most CPU columns accepted in /proc/interrupts (kernel NR_CPUS max is 8192). */
#define NP_IRQ_MAX_CPUS 8192u

/* Largest /proc/interrupts read: 64 MiB (256 CPUs x 4,096 rows is 12 MiB). */
#define NP_INTERRUPTS_MAX (64u << 20)

struct np_irq_line {
	char *irq;          /* first column without ':', e.g. "38", "NMI", "ERR" */
	uint64_t *per_cpu;  /* ncounts counts, one per CPU column of the header, then zeros up to
	                     * the table's ncpus: a row of the table's counts block */
	size_t ncounts;     /* numbers on the line: ncpus, or fewer (ERR/MIS have one) */
	uint64_t total;     /* sum of per_cpu */
	char *desc;         /* the rest of the line, trimmed: chip, hwirq-type, actions */
	char *action;       /* last word of desc (the action/handler name), or NULL */
	int64_t num;        /* irq as a number, -1 for NMI, LOC, ERR, ... */
};

struct np_irq_table {
	unsigned *cpu_ids;  /* CPU number of each column, from the "CPUn" header */
	size_t ncpus;
	struct np_irq_line *lines;
	size_t nlines;
	size_t nsorted;          /* lines[0..nsorted) have ascending numbers (the kernel's order) */
	size_t skipped;          /* rows not understood, left out (e.g. ARM's count-less "FIQ: <owner>") */
	unsigned first_skipped;  /* 1-based line number of the first of them; 0 when none */
	struct np_u64_block *counts; /* every line's per_cpu, ncpus slots a line, in line order: a
	                              * reference, which the report's IRQ lines share (net.h) */
};

/*
 * np_parse_interrupts() - parse /proc/interrupts (proc(5), kernel
 * fs/proc/interrupts.c + kernel/irq/proc.c show_interrupts()): a header of
 * "CPUn" names (only online CPUs, so numbers may have gaps), then one line per
 * IRQ: "<irq>:" followed by up to ncpus decimal counts and a free-text
 * description. Lines such as "ERR:" and "MIS:" carry a single count; 32-bit
 * ARM prints "FIQ: <owner>" with none (arch/arm/kernel/fiq.c show_fiq_list()).
 * A row the parser does not understand (no "<label>:", no count, more counts
 * than CPUs, a count that overflows) is skipped and counted in @t->skipped;
 * it never costs the other rows. Returns 0 and fills @t (release with
 * np_irq_table_free()), or -EINVAL (no CPU header, binary input, or rows but
 * none understood), -EFBIG (more than NP_IRQ_MAX_CPUS columns), -ENOMEM.
 * On error @t is left empty.
 */
int np_parse_interrupts(const char *buf, size_t len, struct np_irq_table *t);
void np_irq_table_free(struct np_irq_table *t);

/*
 * np_read_interrupts() - /proc/interrupts under the host root, read by pieces of 256 KiB and
 * parsed as np_parse_interrupts() parses the whole file (the same table, the same errors), so
 * that a 12 MiB file is never held whole. Returns 0 and fills @t (release with
 * np_irq_table_free()), or -errno: the open's and read(2)'s, -EFBIG over NP_INTERRUPTS_MAX,
 * then np_parse_interrupts()'s. On error @t is left empty.
 */
int np_read_interrupts(const struct np_host *h, struct np_irq_table *t);

/* np_read_interrupts() of the open file @fd, read @chunk bytes at a time (a line longer grows the buffer). */
int np_read_interrupts_fd(int fd, size_t chunk, struct np_irq_table *t);

/*
 * np_irq_table_find() - the line of IRQ number @irq, or NULL. O(log n) over
 * the kernel's ascending numbered rows; a row out of order is still found.
 */
const struct np_irq_line *np_irq_table_find(const struct np_irq_table *t, unsigned irq);

/*
 * np_parse_stat_cpus() - the per-CPU "cpuN" lines of /proc/stat (proc(5):
 * user nice system idle iowait irq softirq steal guest guest_nice, in USER_HZ;
 * softirq and steal are kept).
 * The aggregate "cpu" line and other lines are ignored. Returns 0 with a
 * malloc'd array in *@out (caller frees) and its length in *@n, or -EINVAL
 * (no cpuN line, fewer than 7 columns, a column that is not a number, a
 * duplicate or implausible CPU number), -ERANGE, -ENOMEM.
 */
int np_parse_stat_cpus(const char *buf, size_t len, struct np_cpu_sample **out, size_t *n);

/*
 * np_softirq_percent() - softirq ticks over total ticks of one CPU, in
 * percent (0..100). Returns -1 when @total is 0 (no figure).
 */
double np_softirq_percent(uint64_t softirq, uint64_t total);
