// SPDX-License-Identifier: Apache-2.0
/* rdma.c - the rdma section: free, JSON, text, bundle items. */
#include "rdma.h"
#include "expo.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "sources.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdio.h>
#include <stdlib.h>

static void port_free(struct np_rdma_port *p)
{
	free(p->state_name);
	free(p->phys_state_name);
	free(p->link_layer);
	free(p->rate);
	free(p->netdev);
	free(p->netdev_operstate);
	for (size_t i = 0; i < p->n_counters; i++)
		free(p->counters[i].name);
	free(p->counters);
	np_status_clear(&p->status);
}

void np_rdma_free(struct np_rdma *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct np_rdma_dev *d = &s->devs[i];
		free(d->name);
		free(d->node_type);
		free(d->fw_ver);
		free(d->hca_type);
		free(d->board_id);
		free(d->node_guid);
		free(d->device);
		free(d->driver);
		free(d->vendor_id);
		free(d->device_id);
		free(d->parent);
		for (size_t k = 0; k < d->n_ports; k++)
			port_free(&d->ports[k]);
		free(d->ports);
		np_status_clear(&d->status);
	}
	free(s->devs);
	np_status_clear(&s->status);
	*s = (struct np_rdma){ 0 };
}

static json_t *int_or_null(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *port_to_json(const struct np_rdma_port *p, bool rates)
{
	json_t *x = json_object(), *c = json_array();
	np_json_u64(x, "port", p->port);
	json_object_set_new(x, "state", int_or_null(p->state));
	np_json_str(x, "state_name", p->state_name);
	json_object_set_new(x, "phys_state", int_or_null(p->phys_state));
	np_json_str(x, "phys_state_name", p->phys_state_name);
	np_json_str(x, "link_layer", p->link_layer);
	np_json_str(x, "rate", p->rate);
	json_object_set_new(x, "rate_gbps", p->rate_gbps >= 0 ? json_real(p->rate_gbps) : json_null());
	json_object_set_new(x, "lid", int_or_null(p->lid));
	np_json_str(x, "netdev", p->netdev);
	json_object_set_new(x, "netdev_up", p->netdev_up < 0 ? json_null() : json_boolean(p->netdev_up));
	np_json_str(x, "netdev_operstate", p->netdev_operstate);
	for (size_t i = 0; i < p->n_counters; i++) {
		const struct np_rdma_counter *k = &p->counters[i];
		json_t *y = json_object();
		np_json_str(y, "name", k->name);
		np_json_str(y, "group", k->hw ? "hw_counters" : "counters");
		np_json_u64(y, "value", k->value);
		if (rates)
			json_object_set_new(y, "per_second", k->per_second >= 0 ? json_real(k->per_second) : json_null());
		json_array_append_new(c, y);
	}
	json_object_set_new(x, "counters", c);
	np_status_to_json(&p->status, x);
	return x;
}

json_t *np_rdma_to_json(const struct np_rdma *s)
{
	json_t *o = json_object(), *a = json_array();
	for (size_t i = 0; i < s->n; i++) {
		const struct np_rdma_dev *d = &s->devs[i];
		json_t *x = json_object(), *ports = json_array();
		np_json_str(x, "name", d->name);
		np_json_str(x, "node_type", d->node_type);
		np_json_str(x, "fw_ver", d->fw_ver);
		np_json_str(x, "hca_type", d->hca_type);
		np_json_str(x, "board_id", d->board_id);
		np_json_str(x, "node_guid", d->node_guid);
		np_json_str(x, "device", d->device);
		np_json_str(x, "driver", d->driver);
		np_json_str(x, "vendor_id", d->vendor_id);
		np_json_str(x, "device_id", d->device_id);
		np_json_str(x, "parent", d->parent);
		for (size_t k = 0; k < d->n_ports; k++)
			json_array_append_new(ports, port_to_json(&d->ports[k], s->has_rates));
		json_object_set_new(x, "ports", ports);
		np_status_to_json(&d->status, x);
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "devices", a);
	if (s->has_rates)
		np_json_real(o, "interval_s", s->interval_s);
	np_status_to_json(&s->status, o);
	return o;
}

void np_rdma_print(const struct np_rdma *s, struct np_out *o)
{
	static const char *const h[] = { "DEVICE", "PORT", "STATE", "PHYS", "LINK", "RATE", "NETDEV", "FIRMWARE", "DRIVER" };
	np_out_heading(o, "RDMA");
	if (s->status.err)
		np_out_error(o, s->status.error);
	struct np_table *t = np_table_new(ARRAY_SIZE(h), h);
	for (size_t i = 0; t && i < s->n; i++) {
		const struct np_rdma_dev *d = &s->devs[i];
		const char *drv = d->driver ? d->driver : d->parent ? "(soft)" : NULL;
		if (!d->n_ports) {
			const char *cells[] = { d->name, NULL, NULL, NULL, NULL, NULL, NULL, d->fw_ver, drv };
			np_table_add(t, d->status.err ? NP_TONE_WARN : NP_TONE_PLAIN, cells);
		}
		for (size_t k = 0; k < d->n_ports; k++) {
			const struct np_rdma_port *p = &d->ports[k];
			char port[16];
			snprintf(port, sizeof(port), "%u", p->port);
			const char *cells[] = { d->name, port, p->state_name, p->phys_state_name, p->link_layer, p->rate,
						p->netdev, d->fw_ver, drv };
			bool bad = p->state != NP_RDMA_PORT_ACTIVE || p->status.err;
			np_table_add(t, bad ? NP_TONE_WARN : NP_TONE_PLAIN, cells);
		}
	}
	if (t)
		np_table_print_free(t, o);
}

int np_rdma_bundle(const struct np_rdma *s, struct np_bundle *b)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct np_rdma_dev *d = &s->devs[i];
		_cleanup_free_ char *ids = d->vendor_id && d->device_id
			? np_asprintf("%s:%s", d->vendor_id + (np_startswith(d->vendor_id, "0x") ? 2 : 0),
				      d->device_id + (np_startswith(d->device_id, "0x") ? 2 : 0))
			: NULL;
		_cleanup_free_ char *key = np_asprintf("%s %s", d->driver ? d->driver : "-",
						       d->hca_type ? d->hca_type : ids ? ids : "-");
		_cleanup_free_ char *val = np_asprintf("firmware %s", d->fw_ver ? d->fw_ver : "none");
		if (!key || !val)
			return -ENOMEM;
		int r = np_bundle_add(b, "rdma", key, val);
		if (r < 0)
			return r;
	}
	return 0;
}

static void rdma_judge(const struct np_report *r, struct np_source *src)
{
	const struct np_rdma *s = &r->rdma;
	if (s->status.err)
		np_source_down(src, &s->status);
	for (size_t i = 0; i < s->n; i++) {
		if (s->devs[i].status.err)
			np_source_item_down(src, s->devs[i].name, &s->devs[i].status, 0, NULL);
		for (size_t k = 0; k < s->devs[i].n_ports; k++)
			if (s->devs[i].ports[k].status.err)
				np_source_item_down(src, s->devs[i].name, &s->devs[i].ports[k].status, 0, NULL);
	}
}

/* The value of gauge @which (0 state, 1 phys_state, 2 rate in bytes/s) of @p; < 0 when the kernel gave none */
static double port_gauge(const struct np_rdma_port *p, size_t which)
{
	switch (which) {
	case 0:
		return p->state;
	case 1:
		return p->phys_state;
	default:
		return p->rate_gbps < 0 ? -1 : p->rate_gbps * 1e9 / 8;
	}
}

/*
 * Per port, as node_exporter's infiniband collector names them (state_id, physical_state_id,
 * rate_bytes_per_second; labels device, port) plus an info series with the state names, the link
 * layer and a RoCE port's netdev. A value the kernel did not give (unreadable or not understood)
 * has no series.
 */
static void rdma_metrics(FILE *f, const struct np_report *r, const struct np_metrics_opts *o)
{
	static const struct {
		const char *name, *help;
	} g[] = {
		{ "nodeprint_rdma_state_id",
		  "Logical state of an RDMA port (1: down, 2: init, 3: armed, 4: active, 5: active defer)." },
		{ "nodeprint_rdma_physical_state_id",
		  "Physical state of an RDMA port (1: sleep, 2: polling, 3: disabled, 4: port configuration training, 5: link up, 6: link error recovery, 7: phy test)." },
		{ "nodeprint_rdma_rate_bytes_per_second",
		  "Signalling rate of an RDMA port in bytes per second (its rate attribute's Gb/sec / 8)." },
	};
	const struct np_rdma *s = &r->rdma;
	(void)o;
	for (size_t j = 0; j < ARRAY_SIZE(g); j++) {
		np_expo_help(f, g[j].name, "gauge", g[j].help);
		for (size_t i = 0; i < s->n; i++)
			for (size_t k = 0; k < s->devs[i].n_ports; k++) {
				double v = port_gauge(&s->devs[i].ports[k], j);
				if (v >= 0)
					fprintf(f, "%s{device=\"%s\",port=\"%u\"} %.17g\n", g[j].name,
						np_expo_esc(s->devs[i].name), s->devs[i].ports[k].port, v);
			}
	}
	np_expo_help(f, "nodeprint_rdma_port_info", "gauge",
		     "An RDMA port's state names, link layer and netdev (RoCE), always 1.");
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < s->devs[i].n_ports; k++) {
			const struct np_rdma_port *p = &s->devs[i].ports[k];
			/* np_expo_esc() keeps four values: two calls */
			fprintf(f, "nodeprint_rdma_port_info{device=\"%s\",port=\"%u\",state=\"%s\",phys_state=\"%s\",",
				np_expo_esc(s->devs[i].name), p->port, np_expo_esc(p->state_name),
				np_expo_esc(p->phys_state_name));
			fprintf(f, "link_layer=\"%s\",netdev=\"%s\"} 1\n", np_expo_esc(p->link_layer),
				np_expo_esc(p->netdev));
		}
}

NP_SECTION_SOURCE(rdma, 140, "RDMA devices and ports", "RDMAUnreadable", rdma_judge, .bundle = true);
NP_SECTION_METRICS(rdma, rdma_metrics);
