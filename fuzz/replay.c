/*
 * The replay driver: what a fuzz target links with when it is built without
 * libFuzzer (gcc, the plain and ASan builds). Every argument is a file or a
 * directory of files; each file is read whole and passed once to
 * LLVMFuzzerTestOneInput, in name order, so the committed corpora and
 * regressions run as ordinary tests. A crash, a sanitizer report or an abort
 * inside the target fails the test; so does an argument that cannot be read,
 * except those after --optional, which may be missing (a target with no
 * regressions yet has no regressions directory).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f) {
		perror(path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		fclose(f);
		return -1;
	}
	/* An exact-size heap copy, as libFuzzer passes it: ASan sees overreads. */
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: read failed\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (getenv("SYNACK_FUZZ_VERBOSE"))
		fprintf(stderr, "replay %s (%ld bytes)\n", path, n);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_dir(const char *dir, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!d) {
		perror(dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
			if (!nn)
				abort();
			names = nn;
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(len);
		struct stat sb;

		if (!path)
			abort();
		snprintf(path, len, "%s/%s", dir, names[i]);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (run_file(path) != 0)
				err = -1;
			else
				(*count)++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	int count = 0, err = 0;
	int optional = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR... [--optional FILE|DIR...]\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat sb;

		if (!strcmp(argv[i], "--optional")) {
			optional = 1;
		} else if (stat(argv[i], &sb) != 0) {
			if (optional)
				continue;
			perror(argv[i]);
			err = 1;
		} else if (S_ISDIR(sb.st_mode)) {
			if (run_dir(argv[i], &count) != 0)
				err = 1;
		} else if (run_file(argv[i]) != 0) {
			err = 1;
		} else {
			count++;
		}
	}
	printf("%s: replayed %d inputs%s\n", argv[0], count, err ? ", with errors" : "");
	return err || count == 0;
}
