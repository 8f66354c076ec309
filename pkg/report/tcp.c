// SPDX-License-Identifier: Apache-2.0
/* tcp.c - the tcp section: names, free, JSON, text. */
#include "tcp.h"
#include "json.h"
#include "../shared/macro.h"

#include <stdio.h>

static const struct {
	const char *proto, *name, *json;
} counters[NP_TCP__N] = {
	[NP_TCP_ACTIVE_OPENS] = { "Tcp", "ActiveOpens", "active_opens" },
	[NP_TCP_PASSIVE_OPENS] = { "Tcp", "PassiveOpens", "passive_opens" },
	[NP_TCP_IN_SEGS] = { "Tcp", "InSegs", "in_segs" },
	[NP_TCP_OUT_SEGS] = { "Tcp", "OutSegs", "out_segs" },
	[NP_TCP_RETRANS_SEGS] = { "Tcp", "RetransSegs", "retrans_segs" },
	[NP_TCP_IN_ERRS] = { "Tcp", "InErrs", "in_errs" },
	[NP_TCP_OUT_RSTS] = { "Tcp", "OutRsts", "out_rsts" },
	[NP_TCP_LISTEN_OVERFLOWS] = { "TcpExt", "ListenOverflows", "listen_overflows" },
	[NP_TCP_LISTEN_DROPS] = { "TcpExt", "ListenDrops", "listen_drops" },
	[NP_TCP_TIMEOUTS] = { "TcpExt", "TCPTimeouts", "timeouts" },
};

const char *np_tcp_counter_name(enum np_tcp_counter c)
{
	return counters[c].name;
}

const char *np_tcp_counter_proto(enum np_tcp_counter c)
{
	return counters[c].proto;
}

void np_tcp_free(struct np_tcp *s)
{
	np_status_clear(&s->status);
	*s = (struct np_tcp){ 0 };
}

json_t *np_tcp_to_json(const struct np_tcp *s)
{
	json_t *o = json_object(), *c = json_object(), *r = json_object();
	for (size_t i = 0; i < NP_TCP__N; i++) {
		json_object_set_new(c, counters[i].json, s->have[i] ? json_integer(s->v[i]) : json_null());
		if (s->has_rates)
			json_object_set_new(r, counters[i].json, s->have[i] ? json_real(s->rate[i]) : json_null());
	}
	json_object_set_new(o, "counters", c);
	if (s->has_rates) {
		np_json_real(o, "interval_s", s->interval_s);
		json_object_set_new(o, "per_second", r);
		json_object_set_new(o, "retrans_percent", s->retrans_percent >= 0 ? json_real(s->retrans_percent) : json_null());
	} else {
		json_decref(r);
	}
	np_status_to_json(&s->status, o);
	return o;
}

void np_tcp_print(const struct np_tcp *s, struct np_out *o)
{
	static const char *const hdr[] = { "COUNTER", "SINCE_BOOT", "PER_SECOND" };
	np_out_heading(o, "TCP");
	if (s->status.err)
		np_out_error(o, s->status.error);
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	for (size_t i = 0; t && i < NP_TCP__N; i++) {
		char a[32], b[32];
		snprintf(a, sizeof(a), "%lld", (long long)s->v[i]);
		snprintf(b, sizeof(b), "%.1f", s->rate[i]);
		const char *cells[] = { counters[i].name, s->have[i] ? a : NULL, s->have[i] && s->has_rates ? b : NULL };
		np_table_add(t, NP_TONE_PLAIN, cells);
	}
	if (t)
		np_table_print_free(t, o);
	if (s->has_rates && s->retrans_percent >= 0)
		np_out_kvf(o, "retransmitted", "%.2f%% of segments sent over %.1f s", s->retrans_percent, s->interval_s);
}

int np_tcp_bundle(const struct np_tcp *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
