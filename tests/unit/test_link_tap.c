/*
 * The TAP driver, exercised inside a private network namespace (created in a
 * forked child) so the host's interfaces are never touched. Skips without
 * root or /dev/net/tun.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#include "synack/synack.h"
#include "../test.h"

#define EXIT_SKIP 77

TEST(bad_names)
{
	static const char *const names[] = {
		"", "0123456789abcdef", "a-name-far-too-long-for-linux", "a/b", "a:b", "a b", ".", "..",
	};
	struct synack_link *l = NULL;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK_EQ(synack_tap_open(names[i], 0, &l), -EINVAL);
	CHECK_EQ(synack_tap_open(NULL, 0, &l), -EINVAL);
	CHECK_EQ(synack_tap_open("sntest0", 0, NULL), -EINVAL);
	CHECK(l == NULL);
}

TEST(open_send_recv)
{
	struct synack_link *l = NULL;
	uint8_t frame[60] = { 0 }, buf[2000];
	int n;

	REQUIRE(synack_tap_open("sntest0", 1400, &l) == 0);
	CHECK_STR(l->ops->kind, "tap");
	CHECK_EQ(l->mtu, 1400);
	CHECK_EQ(l->mac[0] & 0x03, 0x02);       /* locally administered, unicast */
	CHECK(l->ops->wait_fd(l) >= 0);
	CHECK(l->ops->next_deadline(l) == SYNACK_NEVER);
	CHECK(if_nametoindex("sntest0") > 0);

	/* A broadcast frame of an unknown EtherType: the kernel takes and drops it. */
	memset(frame, 0xff, 6);
	memcpy(frame + 6, l->mac, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	CHECK_EQ(l->ops->send(l, frame, sizeof(frame)), 0);
	CHECK_EQ(l->ops->send(l, frame, 13), -EINVAL);
	CHECK_EQ(l->ops->send(l, buf, 1415), -EMSGSIZE);
	/* Non-blocking: whatever the kernel has sent (IPv6 chatter) or nothing. */
	n = l->ops->recv(l, buf, sizeof(buf));
	CHECK(n >= 0);
	CHECK_EQ(l->ops->recv(l, NULL, 10), -EINVAL);
	synack_link_destroy(l);

	/* Reopening with mtu 0 keeps the kernel's MTU (a new device: 1500). */
	REQUIRE(synack_tap_open("sntest0", 0, &l) == 0);
	CHECK_EQ(l->mtu, 1500);
	synack_link_destroy(l);
	/* The device was not persistent: it went away with the descriptor. */
	CHECK_EQ(if_nametoindex("sntest0"), 0);
}

/* Offloads by default, plain frames when asked; either way the sizes the
 * stack allocates for follow (max_frame), and only TAP links have stats. */
TEST(offloads_on_by_default_and_off_on_request)
{
	struct synack_tap_config cfg = { .ifname = "sntest1" };
	struct synack_tap_stats s;
	struct synack_link *l = NULL;
	uint8_t buf[2000];

	REQUIRE(synack_tap_open_config(&cfg, &l) == 0);
	REQUIRE(synack_tap_get_stats(l, &s) == 0);
	CHECK(s.offload);
	CHECK_EQ(l->max_frame, 14 + 65535);
	CHECK_EQ(l->features, SYNACK_LINK_F_TX_CSUM | SYNACK_LINK_F_TSO | SYNACK_LINK_F_GRO);
	CHECK(l->ops->recv_meta && l->ops->send_more && l->ops->flush && l->ops->send_gso);
	/* A buffer shorter than max_frame still works for short frames. */
	CHECK(l->ops->recv(l, buf, sizeof(buf)) >= 0);
	CHECK_EQ(l->ops->flush(l), 0);
	synack_link_destroy(l);

	cfg.no_offload = true;
	REQUIRE(synack_tap_open_config(&cfg, &l) == 0);
	REQUIRE(synack_tap_get_stats(l, &s) == 0);
	CHECK(!s.offload);
	CHECK_EQ(l->max_frame, 0);
	CHECK_EQ(l->features, SYNACK_LINK_F_GRO);
	CHECK_EQ(synack_tap_get_stats(NULL, &s), -EINVAL);
	CHECK_EQ(synack_tap_get_stats(l, NULL), -EINVAL);
	CHECK_EQ(synack_tap_open_config(NULL, &l), -EINVAL);
	synack_link_destroy(l);
}

/* CI sets SYNACK_REQUIRE_INTEROP=1: there a missing TAP is a failure. */
static int skip_status(void)
{
	const char *req = getenv("SYNACK_REQUIRE_INTEROP");

	return req && strcmp(req, "1") == 0 ? 1 : 0;
}

static int run_in_namespace(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		printf("SKIP: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return EXIT_SKIP;
	}
	RUN(bad_names);
	RUN(open_send_recv);
	RUN(offloads_on_by_default_and_off_on_request);
	return TEST_SUMMARY();
}

int main(void)
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		printf("SKIP: not root\n");
		return skip_status();
	}
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("SKIP: /dev/net/tun: %s\n", strerror(errno));
		return skip_status();
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		int rc = run_in_namespace();

		fflush(stdout);
		_exit(rc & 0xff);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 1;
	if (WEXITSTATUS(status) == EXIT_SKIP)
		return skip_status();
	return WEXITSTATUS(status);
}
