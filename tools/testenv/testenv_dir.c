/* The state directory (KEYWARD_TESTENV_DIR): token states, APDU traces,
 * logs, reader.conf, the attestation CA. A temporary one is removed at
 * the end unless --keep; a --state-dir is always kept. */
#include "testenv.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
kwt_path(char *out, size_t outsz, const char *dir, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(out, outsz, "%s/", dir);
	if (n < 0 || (size_t)n >= outsz)
		goto toolong;
	va_start(ap, fmt);
	m = vsnprintf(out + n, outsz - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= outsz - (size_t)n)
		goto toolong;
	return 0;
toolong:
	kwt_msg("path too long under %.64s", dir);
	return -1;
}

static int
kwt_dir_temp(struct kwt_env *env)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (kwt_path(env->dir, sizeof(env->dir), tmp,
	    "keyward-testenv.XXXXXX") != 0)
		return -1;
	if (mkdtemp(env->dir) == NULL) {
		kwt_msg("cannot create a directory in %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	env->dir_is_temp = 1;
	return 0;
}

int
kwt_dir_setup(struct kwt_env *env)
{
	const char *want = env->opt.state_dir;

	if (want == NULL)
		return kwt_dir_temp(env);
	/* 0700 like mkdtemp(): token states hold private keys */
	if (mkdir(want, 0700) != 0 && errno != EEXIST) {
		kwt_msg("cannot create %s: %s", want, strerror(errno));
		return -1;
	}
	if (realpath(want, env->dir) == NULL) {
		kwt_msg("%s: %s", want, strerror(errno));
		return -1;
	}
	return 0;
}

static int
kwt_dir_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
kwt_dir_cleanup(struct kwt_env *env)
{
	if (env->dir[0] == '\0')
		return;
	if (!env->dir_is_temp)
		return;
	if (env->opt.keep) {
		kwt_msg("kept %s", env->dir);
		return;
	}
	nftw(env->dir, kwt_dir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Show the end of a child's log on stderr: why it failed. */
void
kwt_log_tail(const char *path, const char *what)
{
	char buf[4096];
	FILE *f;
	size_t n;
	long size;
	char *line, *save = NULL;

	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0)
		fseek(f, size > (long)sizeof(buf) - 1 ?
		    size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
	else
		rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "  %s| %.200s\n", what, line);
}
