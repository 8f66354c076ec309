// SPDX-License-Identifier: Apache-2.0
/*
 * The GPU count of a class's peers (pkg/agent/peers.h) from NodeList pages: the captured Node of
 * tests/fixtures/kube/node.json (a kube-apiserver answer) as node-a, node-b and node-c with the
 * gpu.count labels agents publish set on copies; the asking Node is never its own peer; values
 * that are no count are ignored.
 */
#include "testutil.h"
#include "../../pkg/agent/peers.h"

#include <jansson.h>

static json_t *peer(const json_t *base, const char *name, const char *count)
{
	json_t *n = json_deep_copy(base);
	json_t *meta = json_object_get(n, "metadata");
	json_object_set_new(meta, "name", json_string(name));
	if (count)
		json_object_set_new(json_object_get(meta, "labels"), "nodeprint.io/gpu.count", json_string(count));
	return n;
}

static void test_page(void **state)
{
	(void)state;
	char *text = np_slurp("tests/fixtures/kube/node.json", NULL);
	json_t *base = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(base);

	json_t *page = json_pack("{s:[oooo]}", "items", peer(base, "node-a", "8"), peer(base, "node-b", "2"),
				 peer(base, "node-c", "4"), peer(base, "node-d", NULL));
	struct np_peer_gpus p = { 0 };
	assert_int_equal(np_peer_gpus_add(&p, page, "nodeprint.io", "node-a"), 0);
	assert_int_equal(p.peers, 3);     /* node-a asks: not its own peer */
	assert_int_equal(p.gpus, 4);
	assert_string_equal(p.node, "node-c");
	json_decref(page);

	/* a second page: an equal count keeps the first Node, garbage and out-of-range values count as none */
	page = json_pack("{s:[oooo]}", "items", peer(base, "node-e", "4"), peer(base, "node-f", "4x"),
			 peer(base, "node-g", "0"), peer(base, "node-h", "5000"));
	assert_int_equal(np_peer_gpus_add(&p, page, "nodeprint.io", "node-a"), 0);
	assert_int_equal(p.peers, 7);
	assert_int_equal(p.gpus, 4);
	assert_string_equal(p.node, "node-c");
	json_decref(page);

	/* another label prefix reads another label */
	struct np_peer_gpus q = { 0 };
	page = json_pack("{s:[o]}", "items", peer(base, "node-b", "2"));
	assert_int_equal(np_peer_gpus_add(&q, page, "hw.example.com", NULL), 0);
	assert_int_equal(q.peers, 1);
	assert_int_equal(q.gpus, 0);
	assert_null(q.node);
	json_decref(page);

	np_peer_gpus_free(&p);
	np_peer_gpus_free(&q);
	json_decref(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
