/* The enrollment's progress journal: one JSON file per token under the
 * user's state directory, holding only public data (address, KMS URL,
 * steps done, public-key fingerprints, certificates). Written atomically
 * (temporary file, fsync, rename), mode 0600 in a 0700 directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kwenroll.h"

static kw_rv
mkdir_p(char *path)
{
	char *s;

	for (s = path + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*s = '/';
			return KW_ERR_IO;
		}
		*s = '/';
	}
	return mkdir(path, 0700) == 0 || errno == EEXIST ? KW_OK : KW_ERR_IO;
}

static kw_rv
state_dir(char *out, size_t len)
{
	const char *d = getenv("KEYWARD_STATE_DIR"), *x = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (d != NULL && *d == '/')
		n = snprintf(out, len, "%s", d);
	else if (x != NULL && *x == '/')
		n = snprintf(out, len, "%s/keyward", x);
	else if (home != NULL && *home == '/')
		n = snprintf(out, len, "%s/.local/state/keyward", home);
	else
		return KW_ERR_IO;
	return n > 0 && (size_t)n < len ? KW_OK : KW_ERR_RANGE;
}

kw_rv
kwcli_journal_load(kwcli_journal *jr, const char *token_id)
{
	char dir[900];
	json_error_t err;
	kw_rv rv;

	memset(jr, 0, sizeof(*jr));
	if ((rv = state_dir(dir, sizeof(dir))) != KW_OK || (rv = mkdir_p(dir)) != KW_OK) {
		fprintf(stderr, "keyward: no usable state directory (set $KEYWARD_STATE_DIR)\n");
		return rv;
	}
	snprintf(jr->path, sizeof(jr->path), "%s/enroll-%s.json", dir, token_id);
	jr->j = json_load_file(jr->path, JSON_REJECT_DUPLICATES, &err);
	if (jr->j != NULL && !json_is_object(jr->j)) {
		json_decref(jr->j);
		jr->j = NULL;
	}
	if (jr->j == NULL && (jr->j = json_object()) == NULL)
		return KW_ERR_NOMEM;
	return KW_OK;
}

kw_rv
kwcli_journal_save(kwcli_journal *jr)
{
	char tmp[1100];
	int fd;
	kw_rv rv = KW_ERR_IO;

	snprintf(tmp, sizeof(tmp), "%s.tmp", jr->path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return KW_ERR_IO;
	if (json_dumpfd(jr->j, fd, JSON_INDENT(1) | JSON_SORT_KEYS) == 0 && fsync(fd) == 0)
		rv = KW_OK;
	if (close(fd) != 0)
		rv = KW_ERR_IO;
	if (rv == KW_OK && rename(tmp, jr->path) != 0)
		rv = KW_ERR_IO;
	if (rv != KW_OK) {
		unlink(tmp);
		fprintf(stderr, "keyward: cannot write %s\n", jr->path);
	}
	return rv;
}

void
kwcli_journal_free(kwcli_journal *jr)
{
	json_decref(jr->j);
	jr->j = NULL;
}

const char *
kwcli_journal_str(const kwcli_journal *jr, const char *key)
{
	return json_string_value(json_object_get(jr->j, key));
}

kw_rv
kwcli_journal_set_str(kwcli_journal *jr, const char *key, const char *val)
{
	if (val == NULL) {
		(void)json_object_del(jr->j, key);
		return KW_OK;
	}
	return json_object_set_new(jr->j, key, json_string(val)) == 0 ? KW_OK : KW_ERR_NOMEM;
}

kw_rv
kwcli_journal_step(kwcli_journal *jr, const char *step)
{
	json_t *steps = json_object_get(jr->j, "steps");

	if (!json_is_object(steps)) {
		steps = json_object();
		if (steps == NULL || json_object_set_new(jr->j, "steps", steps) != 0)
			return KW_ERR_NOMEM;
	}
	if (json_object_set_new(steps, step, json_true()) != 0)
		return KW_ERR_NOMEM;
	return kwcli_journal_save(jr);
}
