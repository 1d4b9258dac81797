/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>

#include "frame.h"
#include "pmd.h"
#include "switch.h"

static inline void
out_add(struct vqs_pmd *pmd, uint16_t port, struct rte_mbuf *m)
{
	struct vqs_out *o = &pmd->out[port];

	if (o->n == 0)
		pmd->touched[pmd->n_touched++] = port;
	o->pkts[o->n++] = m; /* a burst holds at most VQS_BURST frames */
}

static inline void
drop(struct vqs_pmd *pmd, uint16_t port, enum vqs_drop why, struct rte_mbuf *m)
{
	vqs_count(&pmd->stats[port].drops[why], 1);
	rte_pktmbuf_free(m);
}

/* Ports a flooded frame from 'in' goes to: every other port that can take
 * frames now. Computed once per burst, only if the burst floods. */
static uint16_t
flood_targets(const struct vqs_switch *sw, uint16_t in, uint16_t *targets)
{
	uint16_t i, n = 0;

	for (i = 0; i < sw->n_ports; i++)
		if (i != in && vqs_port_is_up(sw->ports[i]))
			targets[n++] = i;
	return n;
}

/*
 * Frames of one burst mostly come from one source and go to a few
 * destinations. The last source learned and the last destination looked up
 * are remembered across the burst, so a run of frames of one flow costs one
 * hash lookup each way, not one per frame.
 */
struct burst_memo {
	bool have_src, have_dst;
	struct rte_ether_addr src;          /* last source learned */
	enum vqs_fdb_learn_result learned;
	struct rte_ether_addr dst;          /* last destination looked up */
	int dst_port;
};

static inline int
memo_lookup(struct burst_memo *mm, const struct vqs_fdb *fdb,
	    const struct rte_ether_addr *dst)
{
	if (!mm->have_dst || !rte_is_same_ether_addr(dst, &mm->dst)) {
		mm->dst_port = vqs_fdb_lookup(fdb, dst);
		mm->dst = *dst;
		mm->have_dst = true;
	}
	return mm->dst_port;
}

static inline enum vqs_fdb_learn_result
memo_learn(struct burst_memo *mm, struct vqs_fdb *fdb,
	   const struct rte_ether_addr *src, uint16_t port, uint64_t now)
{
	if (!mm->have_src || !rte_is_same_ether_addr(src, &mm->src)) {
		mm->learned = vqs_fdb_learn(fdb, src, port, now);
		mm->src = *src;
		mm->have_src = true;
		/* A new or moved entry may be the remembered destination. */
		if (mm->learned == VQS_FDB_NEW || mm->learned == VQS_FDB_MOVED)
			mm->have_dst = false;
	}
	return mm->learned;
}

void
vqs_switch_burst(struct vqs_switch *sw, struct vqs_pmd *pmd,
		 struct vqs_port *in, struct rte_mbuf **pkts, uint16_t n)
{
	struct vqs_port_stats *ist = &pmd->stats[in->idx];
	struct burst_memo mm = { .have_src = false, .have_dst = false };
	uint16_t targets[VQS_MAX_PORTS];
	int n_targets = -1; /* not computed yet */
	uint64_t now = rte_rdtsc(), bytes = 0;
	const struct rte_ether_hdr *eth;
	struct rte_mbuf *m;
	uint16_t i, t;
	int dst;

	for (i = 0; i < n; i++) {
		m = pkts[i];
		bytes += m->pkt_len;
		switch (vqs_frame_classify(m)) {
		case VQS_FRAME_BAD:
			drop(pmd, in->idx, VQS_DROP_BAD_FRAME, m);
			continue;
		case VQS_FRAME_UNICAST:
			eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
			dst = memo_lookup(&mm, sw->fdb, &eth->dst_addr);
			break;
		default:
			eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
			dst = VQS_FDB_MISS;
			break;
		}
		if (memo_learn(&mm, sw->fdb, &eth->src_addr, in->idx, now) ==
		    VQS_FDB_FULL)
			vqs_count(&ist->fdb_full, 1);
		if (dst == in->idx) {
			/* The destination sits behind the ingress port. */
			drop(pmd, in->idx, VQS_DROP_NO_DEST, m);
		} else if (dst != VQS_FDB_MISS) {
			out_add(pmd, (uint16_t)dst, m);
		} else {
			if (n_targets < 0)
				n_targets = flood_targets(sw, in->idx, targets);
			if (n_targets == 0) {
				drop(pmd, in->idx, VQS_DROP_NO_DEST, m);
				continue;
			}
			/* One reference per destination, on every segment;
			 * each TX drops one. No copies. */
			rte_pktmbuf_refcnt_update(m, (int16_t)(n_targets - 1));
			for (t = 0; t < n_targets; t++)
				out_add(pmd, targets[t], m);
		}
	}
	/* Every frame received counts, dropped ones too (like ethdev ipackets). */
	vqs_count(&ist->rx_packets, n);
	vqs_count(&ist->rx_bytes, bytes);

	for (i = 0; i < pmd->n_touched; i++) {
		struct vqs_out *o = &pmd->out[pmd->touched[i]];

		vqs_port_tx(sw->ports[pmd->touched[i]], pmd, o->pkts, o->n);
		o->n = 0;
	}
	pmd->n_touched = 0;
}

struct vqs_port *
vqs_switch_port_by_name(const struct vqs_switch *sw, const char *name)
{
	uint16_t i;

	for (i = 0; i < sw->n_ports; i++)
		if (strcmp(sw->ports[i]->conf.name, name) == 0)
			return sw->ports[i];
	return NULL;
}

void
vqs_switch_port_stats(const struct vqs_switch *sw, uint16_t port,
		      struct vqs_port_stats *out)
{
	uint16_t i;
	unsigned int d;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sw->n_pmds; i++) {
		const struct vqs_port_stats *s = &sw->pmds[i]->stats[port];

		out->rx_packets += vqs_read(&s->rx_packets);
		out->rx_bytes += vqs_read(&s->rx_bytes);
		out->tx_packets += vqs_read(&s->tx_packets);
		out->tx_bytes += vqs_read(&s->tx_bytes);
		out->fdb_full += vqs_read(&s->fdb_full);
		for (d = 0; d < VQS_DROP_MAX; d++)
			out->drops[d] += vqs_read(&s->drops[d]);
	}
}
