/* SPDX-License-Identifier: BSD-3-Clause
 * A few macros for the unit tests: each CHECK that fails prints where and
 * why; main() returns non-zero if any did.
 */
#ifndef VQS_UNIT_H
#define VQS_UNIT_H

#include <stdio.h>

#include <rte_common.h>
#include <rte_eal.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond) do { \
	unit_checks++; \
	if (!(cond)) { \
		unit_failures++; \
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	unit_checks++; \
	if (_a != _b) { \
		unit_failures++; \
		fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
			__FILE__, __LINE__, #a, #b, _a, _b); \
	} \
} while (0)

/* EAL without hugepages, PCI or shared files, enough for rte_hash and mempools. */
static inline int
unit_eal_init_lcores(const char *prog, const char *lcores)
{
	char *args[] = { (char *)prog, "--no-huge", "--no-pci", "--no-shconf",
			 "-m", "128", "--lcores", (char *)lcores,
			 "--log-level", "error" };

	return rte_eal_init((int)RTE_DIM(args), args);
}

static inline int
unit_eal_init(const char *prog)
{
	return unit_eal_init_lcores(prog, "0");
}

static inline int
unit_report(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	return unit_failures == 0 ? 0 : 1;
}

#endif
