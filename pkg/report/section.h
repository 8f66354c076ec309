/* SPDX-License-Identifier: Apache-2.0 */
/*
 * section.h - one descriptor per report section: how it is collected, freed,
 * written as JSON, printed and fingerprinted, and the hooks for state it keeps
 * across the agent's cycles. Each section registers its descriptor once, with
 * NP_SECTION() at the end of its pkg/collect/<section>.c; the linker gathers
 * them (node_exporter's collector registry, in C), report.c and the collector
 * runner loop over them. A second section of the same name fails to link
 * (the descriptor is a global symbol np_section_<name>); there is no fixed
 * table size to overflow.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

struct np_bundle;
struct np_collect_ctx;
struct np_out;
struct np_report;
struct np_section_state;

struct np_section {
	const char *name;  /* as in the JSON, the --only list and `nodeprint collectors` */
	int order;         /* collect and JSON order (lower first; ties by name) */
	int print_order;   /* human report order: the on-call playbook's */
	/*
	 * First (or only) sample. Returns 0, or -errno when the whole section
	 * failed: the runner then records it in the section status unless the
	 * collector already did.
	 */
	int (*collect)(const struct np_collect_ctx *ctx, struct np_report *r);
	/* Optional: called once after ctx->interval_s seconds, to compute rates. */
	int (*resample)(const struct np_collect_ctx *ctx, struct np_report *r);
	void (*free)(struct np_report *r);
	json_t *(*to_json)(const struct np_report *r);
	void (*print)(const struct np_report *r, struct np_out *o);
	int (*bundle)(const struct np_report *r, struct np_bundle *b); /* fingerprint items; 0 or -ENOMEM */
	size_t status_offset; /* offsetof(struct np_report, <section>.status) */
	/*
	 * Optional state the section keeps across the agent's cycles, owned by
	 * the section alone (its stall detector, flap tracker, NVMe poll times and
	 * last SMART page): state_new() makes it for a context (NULL on ENOMEM),
	 * state_reload() hands it the context of a reloaded policy (new
	 * thresholds take effect at the next collect), state_free() releases it.
	 * collect() finds it with np_collect_state(); one-shot commands have none.
	 */
	void *(*state_new)(const struct np_collect_ctx *ctx);
	void (*state_reload)(void *state, const struct np_collect_ctx *ctx);
	void (*state_free)(void *state);
};

/*
 * np_sections() - every registered section, sorted by order then name.
 * Returns a NULL-terminated array owned by the module (do not free); *@n
 * (may be NULL) gets the count. NULL only on ENOMEM at the first call.
 */
const struct np_section *const *np_sections(size_t *n);

/* The section named @name, or NULL. */
const struct np_section *np_section_find(const char *name);

/*
 * NP_SECTION_STATEFUL() - NP_SECTION() for a section that keeps state across
 * cycles: @new_fn, @reload_fn, @free_fn are its state hooks (see above).
 * NP_SECTION() - register section @sec (a member of struct np_report of that
 * name, with np_<sec>_free/_to_json/_print/_bundle in pkg/report/<sec>.h).
 * @collect_fn and @resample_fn (or NULL) take the collection context.
 */
#define NP_SECTION(sec, ord, print_ord, collect_fn, resample_fn)                                     \
	NP_SECTION_STATEFUL(sec, ord, print_ord, collect_fn, resample_fn, NULL, NULL, NULL)

#define NP_SECTION_STATEFUL(sec, ord, print_ord, collect_fn, resample_fn, new_fn, reload_fn, free_fn)   \
	static void np_section_free_##sec(struct np_report *r) { np_##sec##_free(&r->sec); }         \
	static json_t *np_section_json_##sec(const struct np_report *r)                              \
	{                                                                                            \
		return np_##sec##_to_json(&r->sec);                                                  \
	}                                                                                            \
	static void np_section_print_##sec(const struct np_report *r, struct np_out *o)              \
	{                                                                                            \
		np_##sec##_print(&r->sec, o);                                                        \
	}                                                                                            \
	static int np_section_bundle_##sec(const struct np_report *r, struct np_bundle *b)           \
	{                                                                                            \
		return np_##sec##_bundle(&r->sec, b);                                                \
	}                                                                                            \
	extern const struct np_section np_section_##sec;                                             \
	const struct np_section np_section_##sec = {                                                 \
		.name = #sec,                                                                        \
		.order = (ord),                                                                      \
		.print_order = (print_ord),                                                          \
		.collect = (collect_fn),                                                             \
		.resample = (resample_fn),                                                           \
		.free = np_section_free_##sec,                                                       \
		.to_json = np_section_json_##sec,                                                    \
		.print = np_section_print_##sec,                                                     \
		.bundle = np_section_bundle_##sec,                                                   \
		.status_offset = offsetof(struct np_report, sec.status),                             \
		.state_new = (new_fn),                                                               \
		.state_reload = (reload_fn),                                                         \
		.state_free = (free_fn),                                                             \
	};                                                                                           \
	static const struct np_section *const np_section_ptr_##sec                                   \
		__attribute__((used, section("np_sections"), aligned(sizeof(void *)))) = &np_section_##sec
