// SPDX-License-Identifier: Apache-2.0
/*
 * rusage - run a command and print "wall_us maxrss_kib exit cpu_us" (wait4(2) rusage of the child;
 * cpu = user + system time).
 * A tiny C parent, so the child's peak RSS is not inflated by the parent's pages copied at
 * fork (as it is under python, where even /bin/true "uses" 13 MiB).
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: rusage COMMAND [ARGS...]\n");
		return 2;
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	long long us = (b.tv_sec - a.tv_sec) * 1000000LL + (b.tv_nsec - a.tv_nsec) / 1000;
	long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	printf("%lld %ld %d %lld\n", us, ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : 128, cpu);
	return 0;
}
