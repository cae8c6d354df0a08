/* Replay driver for the fuzz targets when libFuzzer is not available (gcc
 * builds, `make check`): runs LLVMFuzzerTestOneInput once per file. Each
 * argument is a file or a directory (its regular files, sorted by name);
 * without arguments the directories in KW_FUZZ_CORPUS (':'-separated) are
 * used. Arguments starting with '-' (libFuzzer flags such as -runs=0) are
 * ignored so one command line works for both kinds of binary. A crash or
 * sanitizer report ends the process; otherwise it exits 0 and prints how
 * many inputs ran. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t replay_count;

/* Read a whole file into an exact-size allocation (so ASan sees any read
 * past the input's end). */
static int
read_input(const char *path, uint8_t **out, size_t *len)
{
	FILE *f;
	uint8_t *buf;
	size_t n;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if ((buf = malloc(REPLAY_MAX_INPUT)) == NULL) {
		fclose(f);
		return 1;
	}
	n = fread(buf, 1, REPLAY_MAX_INPUT, f);
	if (ferror(f) || (*out = malloc(n > 0 ? n : 1)) == NULL) {
		fprintf(stderr, "replay: %s: read error\n", path);
		fclose(f);
		free(buf);
		return 1;
	}
	fclose(f);
	if (n > 0)
		memcpy(*out, buf, n);
	free(buf);
	*len = n;
	return 0;
}

static int
replay_file(const char *path)
{
	uint8_t *data;
	size_t n;

	if (read_input(path, &data, &n) != 0)
		return 1;
	(void)LLVMFuzzerTestOneInput(data, n);
	free(data);
	replay_count++;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL, **nn, path[4096];
	size_t n = 0, i;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*names))) == NULL ||
		    (nn[n] = strdup(e->d_name)) == NULL) {
			if (nn != NULL)
				names = nn;
			rc = 1;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		struct stat st;

		if (rc == 0 && (size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
		    sizeof(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc |= replay_file(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
replay_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return S_ISDIR(st.st_mode) ? replay_dir(path) : replay_file(path);
}

static int
replay_env(void)
{
	const char *env = getenv("KW_FUZZ_CORPUS");
	char *copy, *tok, *save = NULL;
	int rc = 0;

	if (env == NULL || *env == '\0') {
		fprintf(stderr, "usage: replay FILE|DIR... (or KW_FUZZ_CORPUS=DIR[:DIR...])\n");
		return 2;
	}
	if ((copy = strdup(env)) == NULL)
		return 1;
	for (tok = strtok_r(copy, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save))
		rc |= replay_path(tok);
	free(copy);
	return rc;
}

int
main(int argc, char **argv)
{
	int i, rc = 0, paths = 0;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: %s FILE|DIR...\n"
		    "Runs the fuzz target once on each file (directories: each regular\n"
		    "file inside). Without arguments: the directories in KW_FUZZ_CORPUS.\n"
		    "Options starting with '-' are ignored (libFuzzer compatibility).\n",
		    argv[0]);
		return 0;
	}
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		paths++;
		rc |= replay_path(argv[i]);
	}
	if (paths == 0)
		rc = replay_env();
	if (rc == 0)
		printf("%s: %zu inputs replayed\n", argv[0], replay_count);
	return rc;
}
