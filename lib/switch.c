/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "frame.h"
#include "pmd.h"
#include "switch.h"

static inline void
out_add(struct vqs_pmd *pmd, uint16_t slot, struct rte_mbuf *m)
{
	struct vqs_out *o = &pmd->out[slot];

	if (o->n == 0)
		pmd->touched[pmd->n_touched++] = slot;
	o->pkts[o->n++] = m; /* a burst holds at most VQS_BURST frames */
}

static inline void
drop(struct vqs_port_stats *st, enum vqs_drop why, struct rte_mbuf *m)
{
	vqs_count(&st->drops[why], 1);
	rte_pktmbuf_free(m);
}

/*
 * Which VLAN a received frame belongs to, by its tag and the port's mode;
 * an 802.1Q tag is removed, so that inside the switch every frame is
 * untagged and its VLAN is in m->vlan_tci. Returns -1 if the port does
 * not carry that VLAN (or the tag is cut short).
 */
static inline int
ingress_vlan(const struct vqs_dp_port *in, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t vid = 0;

	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
		const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eth + 1);

		if (m->data_len < sizeof(*eth) + sizeof(*vh))
			return -1;
		vid = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		if (rte_vlan_strip(m) != 0)
			return -1;
	}
	if (in->vlan.tag != 0) {
		/* Access port: untagged or priority-tagged frames only. */
		if (vid != 0)
			return -1;
		vid = in->vlan.tag;
	} else if (!vqs_vlan_allowed(&in->vlan, vid)) {
		return -1;
	}
	m->vlan_tci = vid;
	return 0;
}

/* Trunk ports carry VLANs other than 0 tagged; access ports untagged. */
static inline bool
egress_tagged(const struct vqs_dp_port *out, uint16_t vlan)
{
	return out->vlan.tag == 0 && vlan != 0;
}

/* A private copy, tagged, for one destination. NULL if out of mbufs. */
static struct rte_mbuf *
tagged_copy(struct rte_mbuf *m, struct rte_mempool *pool)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);

	if (c != NULL && rte_vlan_insert(&c) != 0) {
		rte_pktmbuf_free(c);
		c = NULL;
	}
	return c;
}

/*
 * Frames of one burst mostly come from one source and go to a few
 * destinations in one VLAN. The last source learned, the last destination
 * looked up and the last VLAN's flood list are remembered across the
 * burst, so a run of frames of one flow costs one hash lookup each way.
 */
struct burst_memo {
	bool have_src, have_dst;
	uint16_t src_vlan, dst_vlan;
	struct rte_ether_addr src;          /* last source learned */
	enum vqs_fdb_learn_result learned;
	struct rte_ether_addr dst;          /* last destination looked up */
	int dst_slot;
	int flood_vlan;                     /* -1: flood lists not built */
	uint16_t n_plain, n_tagged;
	uint16_t plain[VQS_MAX_PORTS], tagged[VQS_MAX_PORTS];
};

static inline int
memo_lookup(struct burst_memo *mm, const struct vqs_fdb *fdb, uint16_t vlan,
	    const struct rte_ether_addr *dst)
{
	if (!mm->have_dst || vlan != mm->dst_vlan ||
	    !rte_is_same_ether_addr(dst, &mm->dst)) {
		mm->dst_slot = vqs_fdb_lookup(fdb, vlan, dst);
		mm->dst = *dst;
		mm->dst_vlan = vlan;
		mm->have_dst = true;
	}
	return mm->dst_slot;
}

static inline enum vqs_fdb_learn_result
memo_learn(struct burst_memo *mm, struct vqs_fdb *fdb, uint16_t vlan,
	   const struct rte_ether_addr *src, uint16_t slot, uint64_t now)
{
	if (!mm->have_src || vlan != mm->src_vlan ||
	    !rte_is_same_ether_addr(src, &mm->src)) {
		mm->learned = vqs_fdb_learn(fdb, vlan, src, slot, now);
		mm->src = *src;
		mm->src_vlan = vlan;
		mm->have_src = true;
		/* A new or moved entry may be the remembered destination. */
		if (mm->learned == VQS_FDB_NEW || mm->learned == VQS_FDB_MOVED)
			mm->have_dst = false;
	}
	return mm->learned;
}

/* Every other port of the bridge that is up and carries the VLAN, split by
 * whether it needs the frame tagged. */
static void
flood_lists(struct burst_memo *mm, const struct vqs_dp *dp, uint16_t in,
	    uint16_t vlan)
{
	const struct vqs_dp_bridge *br = &dp->bridges[dp->ports[in].bridge];
	uint16_t i;

	mm->n_plain = mm->n_tagged = 0;
	for (i = 0; i < br->n_ports; i++) {
		uint16_t s = br->ports[i];
		const struct vqs_dp_port *o = &dp->ports[s];

		if (s == in || !vqs_vlan_allowed(&o->vlan, vlan) ||
		    !vqs_port_is_up(o->port))
			continue;
		if (egress_tagged(o, vlan))
			mm->tagged[mm->n_tagged++] = s;
		else
			mm->plain[mm->n_plain++] = s;
	}
	mm->flood_vlan = vlan;
}

static void
flood(struct burst_memo *mm, const struct vqs_dp *dp, struct vqs_pmd *pmd,
      uint16_t in, struct rte_mbuf *m)
{
	struct vqs_port_stats *ist = &dp->ports[in].port->stats[pmd->id];
	uint16_t vlan = m->vlan_tci, t;

	if (mm->flood_vlan != vlan)
		flood_lists(mm, dp, in, vlan);
	if (mm->n_plain + mm->n_tagged == 0) {
		drop(ist, VQS_DROP_NO_DEST, m);
		return;
	}
	/* Tagged destinations need their own copy: the header changes. */
	for (t = 0; t < mm->n_tagged; t++) {
		struct rte_mbuf *c = tagged_copy(m, pmd->sw->pool);
		uint16_t s = mm->tagged[t];

		if (c == NULL)
			vqs_count(&dp->ports[s].port->stats[pmd->id].drops[VQS_DROP_NO_MBUF], 1);
		else
			out_add(pmd, s, c);
	}
	if (mm->n_plain == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	/* The others share the frame: one reference per destination, on
	 * every segment; each TX drops one. */
	rte_pktmbuf_refcnt_update(m, (int16_t)(mm->n_plain - 1));
	for (t = 0; t < mm->n_plain; t++)
		out_add(pmd, mm->plain[t], m);
}

static void
unicast(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t dst,
	struct rte_mbuf *m)
{
	if (egress_tagged(&dp->ports[dst], m->vlan_tci) &&
	    rte_vlan_insert(&m) != 0) {
		drop(&dp->ports[dst].port->stats[pmd->id], VQS_DROP_NO_MBUF, m);
		return;
	}
	out_add(pmd, dst, m);
}

void
vqs_switch_burst(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot,
		 struct rte_mbuf **pkts, uint16_t n)
{
	const struct vqs_dp_port *in = &dp->ports[slot];
	struct vqs_fdb *fdb = dp->bridges[in->bridge].fdb;
	struct vqs_port_stats *ist = &in->port->stats[pmd->id];
	struct burst_memo mm;
	uint64_t now = rte_rdtsc(), bytes = 0;
	const struct rte_ether_hdr *eth;
	enum vqs_frame_class cls;
	struct rte_mbuf *m;
	uint16_t i;
	int dst;

	/* Everything but the flood lists, which flood_lists() fills. */
	memset(&mm, 0, offsetof(struct burst_memo, plain));
	mm.flood_vlan = -1;
	for (i = 0; i < n; i++) {
		m = pkts[i];
		bytes += m->pkt_len;
		cls = vqs_frame_classify(m, dp->max_frame_len);
		if (cls == VQS_FRAME_BAD) {
			drop(ist, VQS_DROP_BAD_FRAME, m);
			continue;
		}
		if (ingress_vlan(in, m) != 0) {
			drop(ist, VQS_DROP_VLAN_FILTERED, m);
			continue;
		}
		eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		dst = cls == VQS_FRAME_UNICAST ?
			memo_lookup(&mm, fdb, m->vlan_tci, &eth->dst_addr) : VQS_FDB_MISS;
		if (memo_learn(&mm, fdb, m->vlan_tci, &eth->src_addr, slot, now) ==
		    VQS_FDB_FULL)
			vqs_count(&ist->fdb_full, 1);
		/* An entry for a port that has left this bridge is a miss. */
		if (dst >= dp->n_slots || (dst >= 0 &&
		    (dp->ports[dst].port == NULL || dp->ports[dst].bridge != in->bridge)))
			dst = VQS_FDB_MISS;
		if (dst == slot)
			drop(ist, VQS_DROP_NO_DEST, m); /* behind the ingress port */
		else if (dst == VQS_FDB_MISS)
			flood(&mm, dp, pmd, slot, m);
		else if (!vqs_vlan_allowed(&dp->ports[dst].vlan, m->vlan_tci))
			drop(ist, VQS_DROP_VLAN_FILTERED, m); /* stale static entry */
		else
			unicast(dp, pmd, (uint16_t)dst, m);
	}
	/* Every frame received counts, dropped ones too (like ethdev ipackets). */
	vqs_count(&ist->rx_packets, n);
	vqs_count(&ist->rx_bytes, bytes);

	for (i = 0; i < pmd->n_touched; i++) {
		uint16_t s = pmd->touched[i];
		struct vqs_out *o = &pmd->out[s];

		vqs_port_tx(dp->ports[s].port, pmd, o->pkts, o->n);
		o->n = 0;
	}
	pmd->n_touched = 0;
}

struct vqs_port *
vqs_switch_port(const struct vqs_switch *sw, const char *name)
{
	uint16_t i;

	for (i = 0; i < VQS_MAX_PORTS; i++)
		if (sw->ports[i] != NULL && strcmp(sw->ports[i]->conf.name, name) == 0)
			return sw->ports[i];
	return NULL;
}

int
vqs_switch_bridge_index(const struct vqs_switch *sw, const char *name)
{
	uint16_t i;

	for (i = 0; i < sw->n_bridges; i++)
		if (strcmp(sw->bridges[i]->name, name) == 0)
			return i;
	return -1;
}

struct vqs_bridge *
vqs_switch_bridge(const struct vqs_switch *sw, const char *name)
{
	int i = vqs_switch_bridge_index(sw, name);

	return i < 0 ? NULL : sw->bridges[i];
}
