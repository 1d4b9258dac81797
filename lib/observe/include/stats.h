/* SPDX-License-Identifier: BSD-3-Clause
 * The numbers an operator reads about a port, a PMD or a vring, as lists
 * of named fields: one collector each, rendered by telemetry (rte_tel_data)
 * and by vqctl's answers (vqs_answer_fields, answer.h) alike.
 */
#ifndef VQS_STATS_H
#define VQS_STATS_H

#include <stdbool.h>
#include <stdint.h>


struct vqs_port;
struct vqs_pmd;
struct vqs_vring_info;

#define VQS_MAX_FIELDS 40

struct vqs_field {
	char key[32];      /* [a-z0-9_] only: a telemetry dict key */
	bool is_str;       /* s, a number as text (a ratio) ... */
	bool is_text;      /* ... or words */
	uint64_t u;
	char s[24];
};

struct vqs_fields {
	unsigned int n;
	struct vqs_field f[VQS_MAX_FIELDS];
};

/* Counters of a port, since the last clear. */
void vqs_stats_port(const struct vqs_port *p, uint16_t n_pmds, struct vqs_fields *out);
/* A PMD: lcore, RX queues, busy/idle cycles and share, packets, average
 * batch, cycles per packet. */
void vqs_stats_pmd(const struct vqs_pmd *pmd, unsigned int n_rxq, struct vqs_fields *out);
void vqs_stats_vring(const struct vqs_vring_info *vi, struct vqs_fields *out);

#endif
