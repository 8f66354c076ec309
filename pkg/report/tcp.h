/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp.h - the "tcp" section: the host's TCP counters that say "the network is
 * lossy or the listener is overloaded" (segments out, retransmitted, listen
 * queue overflows and drops), since boot and, with --interval, as rates.
 * docs/report/tcp.md documents every field and its kernel source.
 */
#ifndef NP_REPORT_TCP_H
#define NP_REPORT_TCP_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stdint.h>

/* The counters read, in this order (name in the kernel's table, in JSON). */
enum np_tcp_counter {
	NP_TCP_ACTIVE_OPENS,     /* Tcp: ActiveOpens */
	NP_TCP_PASSIVE_OPENS,    /* Tcp: PassiveOpens */
	NP_TCP_IN_SEGS,          /* Tcp: InSegs */
	NP_TCP_OUT_SEGS,         /* Tcp: OutSegs */
	NP_TCP_RETRANS_SEGS,     /* Tcp: RetransSegs */
	NP_TCP_IN_ERRS,          /* Tcp: InErrs */
	NP_TCP_OUT_RSTS,         /* Tcp: OutRsts */
	NP_TCP_LISTEN_OVERFLOWS, /* TcpExt: ListenOverflows */
	NP_TCP_LISTEN_DROPS,     /* TcpExt: ListenDrops */
	NP_TCP_TIMEOUTS,         /* TcpExt: TCPTimeouts */
	NP_TCP__N,
};

struct np_tcp {
	struct np_status status;
	bool have[NP_TCP__N];
	int64_t v[NP_TCP__N];       /* since boot (second sample with --interval) */
	bool has_rates;
	double interval_s;          /* measured between the samples */
	double rate[NP_TCP__N];     /* per second over the interval */
	double retrans_percent;     /* retransmitted / sent segments over the interval; < 0 = no figure */
	int64_t first[NP_TCP__N];   /* first sample (not in JSON) */
	int64_t first_us;           /* CLOCK_MONOTONIC of the first sample */
};

/* The counter's name as the kernel's table has it ("RetransSegs"). */
const char *np_tcp_counter_name(enum np_tcp_counter c);
/* Its protocol line ("Tcp" or "TcpExt"). */
const char *np_tcp_counter_proto(enum np_tcp_counter c);
void np_tcp_free(struct np_tcp *s);
/* docs/report/tcp.md. Caller owns the reference. */
json_t *np_tcp_to_json(const struct np_tcp *s);
void np_tcp_print(const struct np_tcp *s, struct np_out *o);
/* No versions: adds nothing. Returns 0. */
int np_tcp_bundle(const struct np_tcp *s, struct np_bundle *b);

#endif /* NP_REPORT_TCP_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(tcp)
#endif
