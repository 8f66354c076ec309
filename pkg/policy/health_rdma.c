// SPDX-License-Identifier: Apache-2.0
/* health_rdma.c - RDMA ports down: findings under health.rdma (health.h). */
#define _GNU_SOURCE
#include "health_rdma.h"
#include "record.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

/*
 * An RDMA port that is not ACTIVE although its link is wanted: a RoCE port whose netdev is
 * administratively up (the operator wants the link; carrier lost, or the HCA did not bring the port
 * up), or an InfiniBand port that trained (phys_state LinkUp) but was never activated (INIT, ARMED: no
 * subnet manager configured it). A port nobody enabled (netdev down, IB cable out: Polling) is none.
 */
static int findings_rdma(const struct np_health_rdma *h, const struct np_rdma *s, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && h->port_down && i < s->n; i++) {
		const struct np_rdma_dev *dev = &s->devs[i];
		for (size_t k = 0; r >= 0 && k < dev->n_ports; k++) {
			const struct np_rdma_port *p = &dev->ports[k];
			if (p->state < 0 || p->state == NP_RDMA_PORT_ACTIVE)
				continue;
			bool roce = p->netdev && p->netdev_up > 0;
			bool ib_trained = !p->netdev && p->phys_state == NP_RDMA_PHYS_LINK_UP;
			if (!roce && !ib_trained)
				continue;
			_cleanup_free_ char *subject = np_asprintf("%s/%u", dev->name, p->port);
			if (!subject)
				return -ENOMEM;
			if (roce)
				r = np_desired_add_finding(d, NP_FINDING_RDMA_PORT_DOWN, subject, NP_REASON_PORT_DOWN,
							   "RDMA port %s (%s) is %s, phys_state %s, while its netdev %s is up "
							   "(operstate %s): RDMA over it fails",
							   subject, p->link_layer ? p->link_layer : "?",
							   p->state_name ? p->state_name : "?",
							   p->phys_state_name ? p->phys_state_name : "?", p->netdev,
							   p->netdev_operstate ? p->netdev_operstate : "?");
			else
				r = np_desired_add_finding(d, NP_FINDING_RDMA_PORT_DOWN, subject, NP_REASON_NO_SUBNET_MANAGER,
							   "RDMA port %s (%s) has a trained link (LinkUp) but is %s: no subnet "
							   "manager activated it (LID 0x%llx)",
							   subject, p->link_layer ? p->link_layer : "?",
							   p->state_name ? p->state_name : "?",
							   (unsigned long long)(p->lid < 0 ? 0 : p->lid));
		}
	}
	return r;
}

static int judge_rdma(const struct np_health_rdma *h, const struct np_health_in *in, struct np_desired *d)
{
	return findings_rdma(h, &in->r->rdma, d);
}

static const struct np_field fields[] = {
	NP_FIELD_BOOL("portDown", struct np_health_rdma, port_down),
	{},
};

NP_HEALTH(rdma, 80, judge_rdma, fields,
	"portDown: true\n");
