// SPDX-License-Identifier: Apache-2.0
/*
 * `nodeprint fleet`'s drift report (pkg/agent/fleet.c): Nodes grouped by class and bundle, each group
 * judged by the class's pins (else the agents' bundle-state label), the class's pinned reference, and
 * each other bundle's components diffed against it. The Nodes are tests/fixtures/kube/node.json (a
 * Node read back from kube-apiserver) with the labels and P/fingerprint annotation in the shape the
 * agent publishes (components as `nodeprint plan` printed them on the build machine).
 */
#include "testutil.h"
#include "../../pkg/agent/fleet.h"

#include <jansson.h>

#define REL "6.18.44-fc-v1300"
#define NIC_KEY "virtio_net 1af4:1041"
#define NIC_FW "driver 1.0.0 firmware none"

static const char policy_yaml[] = "classes:\n"
				  "  - name: r740\n"
				  "    pins:\n"
				  "      kernel: {release: ['" REL "']}\n"
				  "      nic: {'" NIC_KEY "': ['" NIC_FW "']}\n"
				  "      nvme: {'QEMU NVMe Ctrl': ['7.2.22']}\n"
				  "  - name: lab\n";

/* The fixture Node renamed @name, with the agent's labels (NULL: left out) and fingerprint @fp. */
static json_t *node(const char *name, const char *klass, const char *hash, const char *state, const char *fp)
{
	json_t *n = json_load_file(np_src("tests/fixtures/kube/node.json"), 0, NULL);
	assert_non_null(n);
	json_t *md = json_object_get(n, "metadata");
	json_object_set_new(md, "name", json_string(name));
	json_t *labels = json_object_get(md, "labels"), *ann = json_object_get(md, "annotations");
	if (klass)
		json_object_set_new(labels, "nodeprint.io/class", json_string(klass));
	if (hash)
		json_object_set_new(labels, "nodeprint.io/bundle", json_string(hash));
	if (state)
		json_object_set_new(labels, "nodeprint.io/bundle-state", json_string(state));
	if (fp)
		json_object_set_new(ann, "nodeprint.io/fingerprint", json_string(fp));
	return n;
}

/* A fingerprint annotation with the host's cpu, kernel and NIC items, @kernel, @nicfw and @nvmefw
 * (NULL: no NVMe item), @trunc components left out. */
static char *fingerprint(const char *hash, const char *state, const char *kernel, const char *nicfw,
			 const char *nvmefw, int trunc)
{
	json_t *c = json_pack("[[sss][sss][sss][sss]]", "cpu", "Intel(R) Xeon(R) Processor", "0x1", "kernel",
			      "release", kernel, "module", "virtio_pci", "1", "nic", NIC_KEY, nicfw);
	if (nvmefw)
		json_array_append_new(c, json_pack("[sss]", "nvme", "QEMU NVMe Ctrl", nvmefw));
	json_t *o = json_pack("{s:s,s:s,s:o}", "hash", hash, "state", state, "components", c);
	if (trunc)
		json_object_set_new(o, "truncated", json_integer(trunc));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void add(struct np_fleet *f, const char *name, const char *klass, const char *hash, const char *state,
		char *fp)
{
	json_t *n = node(name, klass, hash, state, fp);
	assert_int_equal(np_fleet_add(f, n), 0);
	json_decref(n);
	free(fp);
}

static const struct np_fleet_group *find(const struct np_fleet *f, const char *klass, const char *hash)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->g[i].klass, klass) && !strcmp(f->g[i].hash, hash))
			return &f->g[i];
	fail_msg("no group %s/%s", klass, hash);
	return NULL;
}

static void load(struct np_policy *p)
{
	char *err = NULL;
	assert_int_equal(np_policy_parse(policy_yaml, strlen(policy_yaml), "t.yaml", p, &err), 0);
}

/* 5 pinned, 3 NIC-firmware drift, 2 kernel+NVMe drift, 1 pinned without NVMe in r740; 2 lab; 1 bare Node;
 * 1 r740 Node whose annotation is truncated, 1 whose annotation is not JSON. */
static void fill(struct np_fleet *f)
{
	char name[32];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "r740-p%d", i);
		add(f, name, "r740", "aaaaaaaaaaaa", "pinned", fingerprint("aaaaaaaaaaaa", "pinned", REL, NIC_FW, "7.2.22", 0));
	}
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "r740-nic%d", i);
		add(f, name, "r740", "bbbbbbbbbbbb", "drift",
		    fingerprint("bbbbbbbbbbbb", "drift", REL, "driver 1.0.0 firmware 16.35.2000", "7.2.22", 0));
	}
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "r740-k%d", i);
		add(f, name, "r740", "cccccccccccc", "drift",
		    fingerprint("cccccccccccc", "drift", "6.18.45-fc-v1300", NIC_FW, "8.0.0", 0));
	}
	add(f, "node-a", "r740", "dddddddddddd", "pinned", fingerprint("dddddddddddd", "pinned", REL, NIC_FW, NULL, 0));
	add(f, "lab-0", "lab", "aaaaaaaaaaaa", "unknown", fingerprint("aaaaaaaaaaaa", "unknown", REL, NIC_FW, "7.2.22", 0));
	add(f, "lab-1", "lab", "aaaaaaaaaaaa", "unknown", fingerprint("aaaaaaaaaaaa", "unknown", REL, NIC_FW, "7.2.22", 0));
	add(f, "bare", NULL, NULL, NULL, NULL);
	add(f, "r740-t", "r740", "eeeeeeeeeeee", "pinned", fingerprint("eeeeeeeeeeee", "pinned", REL, NIC_FW, NULL, 1));
	add(f, "r740-g", "r740", "ffffffffffff", "pinned", strdup("{\"hash\":\"ffffffffffff\",\"compo"));
	assert_int_equal(np_fleet_finish(f), 0);
}

static void test_groups_and_verdicts(void **state)
{
	(void)state;
	struct np_policy pol;
	load(&pol);
	struct np_fleet f = { .pol = &pol };
	fill(&f);
	assert_int_equal(f.nodes, 16);
	assert_int_equal(f.unlabelled, 1);
	assert_int_equal(f.n, 8);
	/* class order, most nodes first: the reference is the 5-node pinned bundle, not node-a's */
	assert_string_equal(f.g[0].klass, "");
	assert_string_equal(f.g[1].klass, "lab");
	assert_string_equal(f.g[2].hash, "aaaaaaaaaaaa");
	const struct np_fleet_group *p = find(&f, "r740", "aaaaaaaaaaaa"), *a = find(&f, "r740", "dddddddddddd");
	assert_true(p->reference && p->verdict == NP_FLEET_PINNED && p->judged && p->n_diff == 0);
	assert_true(!a->reference && a->verdict == NP_FLEET_PINNED);
	assert_int_equal(a->ref, 2);
	/* node-a runs the same bundle but has no NVMe: the diff says so */
	assert_int_equal(a->n_diff, 1);
	assert_string_equal(a->diff[0].component, "nvme");
	assert_string_equal(a->diff[0].pinned, "7.2.22");
	assert_null(a->diff[0].value);

	const struct np_fleet_group *nic = find(&f, "r740", "bbbbbbbbbbbb");
	assert_true(nic->verdict == NP_FLEET_DRIFT && nic->n_drift == 1 && nic->nodes == 3);
	assert_int_equal(nic->n_diff, 1);
	assert_string_equal(nic->diff[0].component, "nic");
	assert_string_equal(nic->diff[0].key, NIC_KEY);
	assert_string_equal(nic->diff[0].pinned, NIC_FW);
	assert_string_equal(nic->diff[0].value, "driver 1.0.0 firmware 16.35.2000");

	const struct np_fleet_group *k = find(&f, "r740", "cccccccccccc");
	assert_true(k->verdict == NP_FLEET_DRIFT && k->n_drift == 2);
	assert_int_equal(k->n_diff, 2);
	assert_string_equal(k->diff[0].component, "kernel");
	assert_string_equal(k->diff[0].pinned, REL);
	assert_string_equal(k->diff[0].value, "6.18.45-fc-v1300");
	assert_string_equal(k->diff[1].component, "nvme");
	assert_string_equal(k->diff[1].value, "8.0.0");

	/* blind is not pinned: a truncated annotation without drift, an annotation that is not JSON */
	assert_int_equal(find(&f, "r740", "eeeeeeeeeeee")->verdict, NP_FLEET_UNKNOWN);
	assert_int_equal(find(&f, "r740", "ffffffffffff")->verdict, NP_FLEET_UNKNOWN);
	/* lab has no pins: the agents' label stands, and lab has no reference */
	const struct np_fleet_group *lab = find(&f, "lab", "aaaaaaaaaaaa");
	assert_true(lab->verdict == NP_FLEET_UNKNOWN && !lab->judged && lab->ref == -1 && lab->nodes == 2);
	assert_int_equal(find(&f, "", "")->verdict, NP_FLEET_UNKNOWN);

	assert_int_equal(np_fleet_nodes_with(&f, NP_FLEET_DRIFT), 5);
	assert_int_equal(np_fleet_nodes_with(&f, NP_FLEET_PINNED), 6);
	assert_int_equal(np_fleet_nodes_with(&f, NP_FLEET_UNKNOWN), 5);

	json_t *j = np_fleet_to_json(&f);
	json_t *d = json_object_get(j, "drift");
	assert_int_equal(json_array_size(d), 3);
	json_t *r740 = json_array_get(d, 2);
	assert_string_equal(json_string_value(json_object_get(r740, "class")), "r740");
	assert_string_equal(json_string_value(json_object_get(r740, "pinned_bundle")), "aaaaaaaaaaaa");
	assert_int_equal(json_integer_value(json_object_get(r740, "nodes")), 13);
	assert_int_equal(json_integer_value(json_object_get(r740, "pinned_nodes")), 6);
	assert_int_equal(json_integer_value(json_object_get(r740, "drift_nodes")), 5);
	assert_int_equal(json_integer_value(json_object_get(r740, "drift_bundles")), 2);
	assert_int_equal(json_integer_value(json_object_get(r740, "unknown_nodes")), 2);
	json_decref(j);

	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	np_fleet_print(&f, out);
	fclose(out);
	assert_non_null(strstr(buf, "class r740: 13 nodes, 6 pinned, 5 drifted in 2 bundles, 2 unknown; pinned bundle "
				    "aaaaaaaaaaaa (5 nodes)\n"));
	assert_non_null(strstr(buf, "      nic " NIC_KEY ": " NIC_FW " -> driver 1.0.0 firmware 16.35.2000\n"));
	assert_non_null(strstr(buf, "      nvme QEMU NVMe Ctrl: 7.2.22 -> (absent)\n"));
	char row[128];
	snprintf(row, sizeof(row), "%-16s %-14s %-8s %6u  %-24s \n", "r740", "aaaaaaaaaaaa", "pinned*", 5, "r740-p0");
	assert_non_null(strstr(buf, row));
	free(buf);
	np_fleet_free(&f);
	np_policy_free(&pol);
}

static void test_show_bundle(void **state)
{
	(void)state;
	struct np_policy pol;
	load(&pol);
	struct np_fleet f = { .pol = &pol, .show_bundle = "bbbbbbbbbbbb" };
	fill(&f);
	const struct np_fleet_group *nic = find(&f, "r740", "bbbbbbbbbbbb");
	assert_int_equal(nic->n_names, 3);
	assert_string_equal(nic->names[2], "r740-nic2");
	assert_int_equal(find(&f, "r740", "aaaaaaaaaaaa")->n_names, 0);
	/* --fail-on counts only the shown bundle */
	assert_int_equal(np_fleet_nodes_with(&f, NP_FLEET_DRIFT), 3);
	assert_int_equal(np_fleet_nodes_with(&f, NP_FLEET_UNKNOWN), 0);
	json_t *j = np_fleet_to_json(&f);
	json_t *g = json_object_get(j, "groups");
	assert_int_equal(json_array_size(g), 1);
	assert_int_equal(json_array_size(json_object_get(json_array_get(g, 0), "node_names")), 3);
	json_decref(j);
	np_fleet_free(&f);
	np_policy_free(&pol);
}

static void test_diff(void **state)
{
	(void)state;
	/* unsorted input, a malformed entry, one key on each side only, one equal */
	json_t *a = json_loads("[[\"nic\",\"mlx5_core 15b3:1017\",\"driver 5.0 firmware 16.35.2000\"],"
			       "[\"kernel\",\"release\",\"6.1.0-25-amd64\"],[\"module\",\"bnxt_en\",\"1.10\"],[1,2]]",
			       0, NULL);
	json_t *b = json_loads("[[\"kernel\",\"release\",\"6.1.0-25-amd64\"],"
			       "[\"nic\",\"mlx5_core 15b3:1017\",\"driver 5.0 firmware 16.35.1012\"],"
			       "[\"nvme\",\"PM9A3\",\"GDC7302Q\"],\"junk\"]",
			       0, NULL);
	struct np_fleet_diff *d;
	size_t n;
	assert_int_equal(np_fleet_diff(a, b, &d, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(d[0].component, "module");
	assert_string_equal(d[0].pinned, "1.10");
	assert_null(d[0].value);
	assert_string_equal(d[1].key, "mlx5_core 15b3:1017");
	assert_string_equal(d[1].pinned, "driver 5.0 firmware 16.35.2000");
	assert_string_equal(d[1].value, "driver 5.0 firmware 16.35.1012");
	assert_string_equal(d[2].component, "nvme");
	assert_null(d[2].pinned);
	assert_string_equal(d[2].value, "GDC7302Q");
	np_fleet_diff_free(d, n);
	/* the same list, and a list that is not an array: nothing differs, nothing crashes */
	assert_int_equal(np_fleet_diff(a, a, &d, &n), 0);
	assert_int_equal(n, 0);
	assert_null(d);
	json_t *s = json_string("x");
	assert_int_equal(np_fleet_diff(s, NULL, &d, &n), 0);
	assert_int_equal(n, 0);
	json_decref(s);
	json_decref(a);
	json_decref(b);
}

/* 300 bundles in two classes, each on two Nodes added far apart: the index grows past 64, 128, 256
 * groups and every Node still finds its group. */
static void test_many_groups(void **state)
{
	(void)state;
	struct np_policy pol;
	load(&pol);
	struct np_fleet f = { .pol = &pol };
	char name[32], hash[16];
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "n%d-%d", round, i);
			snprintf(hash, sizeof(hash), "%012x", i / 2);
			add(&f, name, i % 2 ? "lab" : "r740", hash, "unknown", NULL);
		}
	assert_int_equal(np_fleet_finish(&f), 0);
	assert_int_equal(f.nodes, 600);
	assert_int_equal(f.n, 300);
	for (size_t i = 0; i < f.n; i++)
		assert_int_equal(f.g[i].nodes, 2);
	np_fleet_free(&f);
	np_policy_free(&pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_and_verdicts),
		cmocka_unit_test(test_show_bundle),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_many_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
