// SPDX-License-Identifier: Apache-2.0
/*
 * floor - the least a program can do to read what `nodeprint inspect` reads: open each path of
 * LIST (one a line, relative to ROOT; "d <path>" a folder to list, "p <path>" an O_PATH open,
 * "f <path>" a file to read to its end) and close it. No parsing, no output. bench.py builds the
 * list from the paths nodeprint opened (strace), so the ratio nodeprint / floor is what nodeprint
 * spends beyond the system calls its input needs.
 *   floor ROOT LIST
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: floor ROOT LIST\n");
		return 2;
	}
	int root = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	FILE *l = fopen(argv[2], "r");
	if (root < 0 || !l) {
		perror("floor");
		return 1;
	}
	static char buf[1 << 16];
	char line[4096];
	while (fgets(line, sizeof(line), l)) {
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) < 3)
			continue;
		const char *p = line + 2;
		int flags = line[0] == 'd' ? O_RDONLY | O_DIRECTORY : line[0] == 'p' ? O_PATH : O_RDONLY;
		int fd = openat(root, p, flags | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (line[0] == 'd')
			while (syscall(SYS_getdents64, fd, buf, sizeof(buf)) > 0)
				;
		else if (line[0] == 'f')
			while (read(fd, buf, sizeof(buf)) > 0)
				;
		close(fd);
	}
	fclose(l);
	return 0;
}
