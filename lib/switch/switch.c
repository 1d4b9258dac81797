/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "frame.h"
#include "offload_sw.h"
#include "pmd.h"
#include "tunnel.h"
#include "vqs_switch.h"

_Static_assert(VQS_MAX_PORTS <= 256, "a MAC table entry keeps the slot in 8 bits (VQS_FDB_DEST)");

/* What a destination's output gathered is sent through: its device, or
 * for a tunnel port the encapsulation. */
static inline void
out_device(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot, struct vqs_out *o)
{
	if (unlikely(dp->ports[slot].port->conf.type == VQS_PORT_VXLAN))
		vqs_tnl_tx(dp, pmd, slot, o->pkts, o->rmt1, o->n);
	else
		vqs_port_tx(dp->ports[slot].port, pmd, o->pkts, o->n);
	o->n = 0;
}

/* Whether a frame gathered asks for offloads the destination may not
 * take; the flag is in each mbuf's first line, which the switch read. */
static inline bool
out_offloaded(const struct vqs_out *o)
{
	uint64_t any = 0;
	uint16_t i;

	for (i = 0; i < o->n; i++)
		any |= o->pkts[i]->ol_flags;
	return (any & vqs_offload_flag) != 0;
}

/* The gathered frames with what the destination cannot take of their
 * offloads done in software (offload_sw.h), sent VQS_OUT_MAX at a time:
 * a GSO frame's segments go to the same remote as the frame. */
static void
out_resolved(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot, struct vqs_out *o)
{
	struct vqs_port *p = dp->ports[slot].port;
	struct vqs_port_stats *st = &p->stats[pmd->id];
	uint8_t caps = vqs_port_offload_caps(p);
	struct rte_mbuf *segs[VQS_GSO_MAX_SEGS];
	struct vqs_out t;
	uint16_t i, j, k;

	t.n = 0;
	for (i = 0; i < o->n; i++) {
		struct rte_mbuf *m = o->pkts[i];

		vqs_offload_count(st, vqs_offload_resolve(m, vqs_offload_has(m) ?
							 vqs_port_offload_caps_for(p, caps, m) : caps,
							 pmd->sw->pool, segs, &k));
		for (j = 0; j < k; j++) {
			if (t.n == VQS_OUT_MAX)
				out_device(dp, pmd, slot, &t);
			t.rmt1[t.n] = o->rmt1[i];
			t.pkts[t.n++] = segs[j];
		}
	}
	o->n = 0;
	if (t.n > 0)
		out_device(dp, pmd, slot, &t);
}

static inline void
out_send(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot, struct vqs_out *o)
{
	if (unlikely(out_offloaded(o)))
		out_resolved(dp, pmd, slot, o);
	else
		out_device(dp, pmd, slot, o);
}

/*
 * Output is gathered per destination over a whole pass of the PMD (every
 * RX queue it polls) and sent by vqs_switch_flush(): many guests sending
 * to one uplink cost one TX call per pass, not one per source. A full
 * buffer is sent at once.
 */
static inline void
out_add(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot, struct rte_mbuf *m,
	uint8_t rmt1)
{
	struct vqs_out *o = &pmd->out[slot];

	if (o->n == 0)
		pmd->touched[pmd->n_touched++] = slot;
	else if (unlikely(o->n == VQS_OUT_MAX))
		out_send(dp, pmd, slot, o);
	o->rmt1[o->n] = rmt1;
	o->pkts[o->n++] = m;
}

void
vqs_switch_flush(const struct vqs_dp *dp, struct vqs_pmd *pmd)
{
	uint16_t i;

	for (i = 0; i < pmd->n_touched; i++) {
		uint16_t s = pmd->touched[i];
		struct vqs_out *o = &pmd->out[s];

		if (o->n > 0)
			out_send(dp, pmd, s, o);
	}
	pmd->n_touched = 0;
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
		vqs_offload_shift(m, -4);
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

/* A private copy, tagged. NULL if out of mbufs. */
static struct rte_mbuf *
tagged_copy(struct rte_mbuf *m, struct rte_mempool *pool)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);

	if (c != NULL && rte_vlan_insert(&c) != 0) {
		rte_pktmbuf_free(c);
		c = NULL;
	}
	if (c != NULL)
		vqs_offload_shift(c, 4);
	return c;
}

/* The frame, tagged: in place when it can be, else as a copy (m shared,
 * or not a direct mbuf: one pointing into a guest's memory,
 * vqs_direct.h, which rte_vlan_insert refuses; or no headroom). NULL
 * (m freed) if out of mbufs. */
static struct rte_mbuf *
tag_frame(struct rte_mbuf *m, struct rte_mempool *pool)
{
	struct rte_mbuf *c;

	if (rte_vlan_insert(&m) == 0) {
		vqs_offload_shift(m, 4);
		return m;
	}
	c = tagged_copy(m, pool);
	rte_pktmbuf_free(m);
	return c;
}

/*
 * Frames of one burst mostly come from one source and go to a few
 * destinations in one VLAN. The last source learned, the last destination
 * looked up and the last VLAN's flood lists are remembered across the
 * burst, so a run of frames of one flow costs one hash lookup each way.
 * (Kept only for a burst: the hash lookups are about 1% of a PMD's cycles,
 * measured, while a memo kept longer would have to follow every change of
 * the table and still refresh the entries' age.)
 */
struct burst_memo {
	bool have_src, have_dst;
	uint16_t src_vlan, dst_vlan;
	uint16_t src_dest;                  /* where it was learned (VQS_FDB_DEST) */
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
	   const struct rte_ether_addr *src, uint16_t dest, uint64_t now)
{
	if (!mm->have_src || vlan != mm->src_vlan || dest != mm->src_dest ||
	    !rte_is_same_ether_addr(src, &mm->src)) {
		mm->learned = vqs_fdb_learn(fdb, vlan, src, dest, now);
		mm->src = *src;
		mm->src_vlan = vlan;
		mm->src_dest = dest;
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

/* Shares m among n destinations: one reference each, on every segment;
 * each TX drops one. */
static void
out_share(const struct vqs_dp *dp, struct vqs_pmd *pmd, const uint16_t *dst,
	  uint16_t n, struct rte_mbuf *m)
{
	uint16_t t;

	rte_pktmbuf_refcnt_update(m, (int16_t)(n - 1));
	for (t = 0; t < n; t++)
		out_add(dp, pmd, dst[t], m, 0); /* a tunnel: to every remote */
}

static void
flood(struct burst_memo *mm, const struct vqs_dp *dp, struct vqs_pmd *pmd,
      uint16_t in, struct rte_mbuf *m)
{
	struct vqs_port_stats *ist = &dp->ports[in].port->stats[pmd->id];
	uint16_t vlan = m->vlan_tci, t;
	struct rte_mbuf *c;

	if (mm->flood_vlan != vlan)
		flood_lists(mm, dp, in, vlan);
	if (mm->n_plain + mm->n_tagged == 0) {
		drop(ist, VQS_DROP_NO_DEST, m);
		return;
	}
	/* Trunk destinations share one tagged copy: the header changes, but
	 * the same way for all of them. */
	if (mm->n_tagged > 0) {
		c = tagged_copy(m, pmd->sw->pool);
		if (c != NULL)
			out_share(dp, pmd, mm->tagged, mm->n_tagged, c);
		else
			for (t = 0; t < mm->n_tagged; t++)
				vqs_count(&dp->ports[mm->tagged[t]].port->stats[pmd->id]
						   .drops[VQS_DROP_NO_MBUF], 1);
	}
	if (mm->n_plain == 0)
		rte_pktmbuf_free(m);
	else
		out_share(dp, pmd, mm->plain, mm->n_plain, m);
}

/* What becomes of one frame. */
enum verdict {
	V_DROP,     /* counted as 'why' on the ingress port */
	V_FLOOD,
	V_UNICAST,  /* to dst, tagged if it needs to be */
};

struct decision {
	enum verdict v;
	enum vqs_drop why;
	int dst;
	uint8_t rmt1; /* a tunnel destination's remote + 1; 0 all */
	bool tag;
	bool fdb_full; /* its source could not be learned */
};

/* Everything a burst's frames share. */
struct burst_ctx {
	const struct vqs_dp *dp;
	const struct vqs_dp_port *in;
	struct vqs_fdb *fdb;
	uint16_t slot;
	uint8_t rmt1;     /* a tunnel port's frames: the remote they came from + 1 */
	uint64_t now;
	struct burst_memo mm;
};

/* Classifies, takes the VLAN off, learns and looks up; sends nothing. */
static inline struct decision
decide(struct burst_ctx *x, struct rte_mbuf *m)
{
	const struct vqs_dp *dp = x->dp;
	struct decision d = { .v = V_DROP };
	enum vqs_frame_class cls = vqs_frame_classify(m, dp->max_frame_len);
	const struct rte_ether_hdr *eth;
	int dst;

	if (cls == VQS_FRAME_BAD) {
		d.why = VQS_DROP_BAD_FRAME;
		return d;
	}
	if (ingress_vlan(x->in, m) != 0) {
		d.why = VQS_DROP_VLAN_FILTERED;
		return d;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	dst = cls == VQS_FRAME_UNICAST ?
		memo_lookup(&x->mm, x->fdb, m->vlan_tci, &eth->dst_addr) : VQS_FDB_MISS;
	d.fdb_full = memo_learn(&x->mm, x->fdb, m->vlan_tci, &eth->src_addr,
				VQS_FDB_DEST(x->slot, x->rmt1), x->now) == VQS_FDB_FULL;
	if (dst >= 0) {
		d.rmt1 = (uint8_t)VQS_FDB_RMT1(dst);
		dst = VQS_FDB_SLOT(dst);
	}
	/* An entry for a port that has left this bridge is a miss. */
	if (dst >= dp->n_slots || (dst >= 0 &&
	    (dp->ports[dst].port == NULL || dp->ports[dst].bridge != x->in->bridge)))
		dst = VQS_FDB_MISS;
	if (dst == x->slot) {
		d.why = VQS_DROP_NO_DEST; /* behind the ingress port */
	} else if (dst == VQS_FDB_MISS) {
		d.v = V_FLOOD;
	} else if (!vqs_vlan_allowed(&dp->ports[dst].vlan, m->vlan_tci)) {
		d.why = VQS_DROP_VLAN_FILTERED; /* stale static entry */
	} else {
		d.v = V_UNICAST;
		d.dst = dst;
		d.tag = egress_tagged(&dp->ports[dst], m->vlan_tci);
	}
	return d;
}

static inline void
apply(struct burst_ctx *x, struct vqs_pmd *pmd, struct vqs_port_stats *ist,
      const struct decision *d, struct rte_mbuf *m)
{
	if (d->fdb_full)
		vqs_count(&ist->fdb_full, 1);
	switch (d->v) {
	case V_DROP:
		drop(ist, d->why, m);
		break;
	case V_FLOOD:
		flood(&x->mm, x->dp, pmd, x->slot, m);
		break;
	case V_UNICAST:
		if (d->tag && (m = tag_frame(m, pmd->sw->pool)) == NULL)
			vqs_count(&x->dp->ports[d->dst].port->stats[pmd->id].drops[VQS_DROP_NO_MBUF], 1);
		else
			out_add(x->dp, pmd, (uint16_t)d->dst, m, d->rmt1);
		break;
	}
}

/*
 * Whether every frame of the burst has the first one's addresses and
 * EtherType, no 802.1Q tag, and a length the switch takes: then the first
 * frame's decision is every frame's (the VLAN comes from the port, the
 * source is learned once, the destination looked up once). 14 header
 * bytes compared as two overlapping 8-byte words.
 */
static inline bool
burst_uniform(struct rte_mbuf **pkts, uint16_t n, uint32_t max_len)
{
	const uint8_t *h = rte_pktmbuf_mtod(pkts[0], const uint8_t *);
	uint64_t a0, b0, a, b;
	uint16_t i;

	if (n < 2 || pkts[0]->data_len < VQS_MIN_FRAME_LEN ||
	    ((const struct rte_ether_hdr *)h)->ether_type ==
	    rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN))
		return false;
	memcpy(&a0, h, 8);
	memcpy(&b0, h + 6, 8);
	for (i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];

		if (m->data_len < VQS_MIN_FRAME_LEN || m->pkt_len > max_len)
			return false;
		h = rte_pktmbuf_mtod(m, const uint8_t *);
		memcpy(&a, h, 8);
		memcpy(&b, h + 6, 8);
		if ((a ^ a0) | (b ^ b0))
			return false;
	}
	return true;
}

static void
count_rx(struct vqs_port_stats *st, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	/* Every frame received counts, dropped ones too (like ethdev ipackets). */
	vqs_count(&st->rx_packets, n);
	vqs_count(&st->rx_bytes, bytes);
}

/* Frames received on the port in slot (from remote rmt1 - 1 of a tunnel
 * port), counted already, through the bridge. */
static void
switch_frames(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot, uint8_t rmt1,
	      struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct burst_ctx x;
	struct vqs_port_stats *ist;
	struct decision d;
	uint16_t i;

	x.dp = dp;
	x.in = &dp->ports[slot];
	x.fdb = dp->bridges[x.in->bridge].fdb;
	x.slot = slot;
	x.rmt1 = rmt1;
	x.now = now;
	/* Everything but the flood lists, which flood_lists() fills. */
	memset(&x.mm, 0, offsetof(struct burst_memo, plain));
	x.mm.flood_vlan = -1;
	ist = &x.in->port->stats[pmd->id];
	if (burst_uniform(pkts, n, dp->max_frame_len)) {
		d = decide(&x, pkts[0]);
		if (d.v == V_UNICAST && !d.tag) {
			struct vqs_out *o = &pmd->out[d.dst];
			uint16_t vlan = pkts[0]->vlan_tci;

			if (d.fdb_full)
				vqs_count(&ist->fdb_full, n);
			if (o->n == 0)
				pmd->touched[pmd->n_touched++] = (uint16_t)d.dst;
			else if (o->n > VQS_OUT_MAX - n)
				out_send(dp, pmd, (uint16_t)d.dst, o);
			/* Locals: the mbuf stores would otherwise make the
			 * compiler reload o->n for every frame. */
			for (i = 1; i < n; i++)
				pkts[i]->vlan_tci = vlan;
			memcpy(&o->pkts[o->n], pkts, n * sizeof(pkts[0]));
			memset(&o->rmt1[o->n], d.rmt1, n);
			o->n += n;
			return;
		}
	} else {
		d = decide(&x, pkts[0]);
	}
	apply(&x, pmd, ist, &d, pkts[0]);
	for (i = 1; i < n; i++) {
		d = decide(&x, pkts[i]);
		apply(&x, pmd, ist, &d, pkts[i]);
	}
}

/* Decapsulated frames, as received on their tunnel ports: a run of one
 * port and remote at a time. */
static void
switch_decapsulated(const struct vqs_dp *dp, struct vqs_pmd *pmd, const struct vqs_tnl_rx *dec,
		    uint16_t n, uint64_t now)
{
	struct rte_mbuf *run[VQS_BURST];
	struct vqs_tnl_remote_stats *rs;
	struct vqs_port *p;
	uint16_t i = 0, j, k;

	while (i < n) {
		for (j = i, k = 0; j < n && dec[j].slot == dec[i].slot && dec[j].rmt1 == dec[i].rmt1;
		     j++)
			run[k++] = dec[j].m;
		p = dp->ports[dec[i].slot].port;
		count_rx(&p->stats[pmd->id], run, k);
		rs = &p->vx.remote[pmd->id][dec[i].rmt1 - 1];
		vqs_count(&rs->rx_packets, k);
		for (j = 0; j < k; j++)
			vqs_count(&rs->rx_bytes, run[j]->pkt_len);
		switch_frames(dp, pmd, dec[i].slot, dec[i].rmt1, run, k, now);
		i += k;
	}
}

void
vqs_switch_burst(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot,
		 struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct vqs_tnl_rx dec[VQS_BURST];
	uint16_t n_dec;

	count_rx(&dp->ports[slot].port->stats[pmd->id], pkts, n);
	if (likely(dp->ports[slot].ul.ip == 0)) {
		switch_frames(dp, pmd, slot, 0, pkts, n, now);
		return;
	}
	/* An underlay: what is for its address is not switched. */
	n = vqs_tnl_rx(dp, pmd, slot, pkts, n, dec, &n_dec, now);
	if (n > 0)
		switch_frames(dp, pmd, slot, 0, pkts, n, now);
	if (n_dec > 0)
		switch_decapsulated(dp, pmd, dec, n_dec, now);
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
