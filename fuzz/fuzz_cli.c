/* Fuzz target: the files the `keyward` CLI reads (tools/keyward/).
 *
 *   0  the enrollment journal (cli_journal.c): the input is the JSON file
 *      of a token; it is loaded as `keyward enroll` does, its members are
 *      read (addresses, KMS, pending mode, the signing certificate and the
 *      encryption-certificate history as PEM -> DER), a step is recorded
 *      (saved), and the saved file must load again with that step.
 *   1  a batch file (cli_batch.c): every line split into its fields.
 *   2  a PIN/PUK/password file (cli_input.c: kwcli_secret_get).
 *
 * Input: a selector byte (low 2 bits: the file above), then the file.
 * Files live in a private directory (tmpfs when there is one).
 *
 * Checks: nothing crashes, leaks or reads out of bounds; a parsed batch
 * line has an address with '@' and a token, every field inside the line;
 * a secret read from a file has no newline and is not empty. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "kwenroll.h"

static char dir[64], journal_path[128], secret_path[128];

static void
cleanup(void)
{
	(void)unlink(journal_path);
	(void)unlink(secret_path);
	(void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/kw-fuzz-cli-XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(journal_path, sizeof(journal_path), "%s/enroll-fuzz.json", dir);
	snprintf(secret_path, sizeof(secret_path), "%s/pin", dir);
	setenv("KEYWARD_STATE_DIR", dir, 1);
	atexit(cleanup);
	return 0;
}

static bool
write_file(const char *path, kw_view v)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok;

	if (fd < 0)
		return false;
	ok = v.len == 0 || write(fd, v.ptr, v.len) == (ssize_t)v.len;
	close(fd);
	return ok;
}

static void
pem_member(const char *pem)
{
	kw_buf der;

	if (pem == NULL)
		return;
	kw_buf_init(&der, 1 << 16);
	(void)kwcli_pem_to_der(pem, &der);
	kw_buf_free(&der);
}

static void
fuzz_journal(kw_view v)
{
	static const char *members[] = {
		"email", "kms", "pending", "revoked", "sign_key", "sign_cert",
	};
	kwcli_journal jr, again;
	json_t *certs, *e, *steps;
	size_t i;

	memset(&again, 0, sizeof(again));
	if (!write_file(journal_path, v) || kwcli_journal_load(&jr, "fuzz") != KW_OK)
		return;
	if (!json_is_object(jr.j))
		abort();
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		(void)kwcli_journal_str(&jr, members[i]);
	pem_member(kwcli_journal_str(&jr, "sign_cert"));
	certs = json_object_get(jr.j, "enc_certs");
	json_array_foreach(certs, i, e)
		pem_member(json_string_value(e));
	(void)json_is_true(json_object_get(jr.j, "complete"));
	if (kwcli_journal_set_str(&jr, "pending", "renew") != KW_OK ||
	    kwcli_journal_step(&jr, "fuzzed") != KW_OK)
		goto out;
	if (kwcli_journal_load(&again, "fuzz") != KW_OK ||
	    !json_is_object(steps = json_object_get(again.j, "steps")) ||
	    !json_is_true(json_object_get(steps, "fuzzed")) ||
	    kwcli_journal_str(&again, "pending") == NULL ||
	    strcmp(kwcli_journal_str(&again, "pending"), "renew") != 0)
		abort();
out:
	kwcli_journal_free(&jr);
	kwcli_journal_free(&again);
}

static void
fuzz_batch(kw_view v)
{
	char line[1024];
	kwcli_batch_line bl;
	size_t i, n;
	int r;

	memset(&bl, 0, sizeof(bl));
	/* fgets: lines of at most 1023 bytes (a longer one comes in pieces) */
	while (v.len > 0) {
		for (n = 0; n < v.len && n < sizeof(line) - 1; n++)
			if ((line[n] = (char)v.ptr[n]) == '\n') {
				n++;
				break;
			}
		line[n] = '\0';
		v.ptr += n;
		v.len -= n;
		bl.lineno++;
		if ((r = kwcli_batch_parse_line(line, &bl)) != 1)
			continue;
		if (bl.f[0] == NULL || strchr(bl.f[0], '@') == NULL || bl.f[1] == NULL ||
		    strlen(bl.token) >= sizeof(bl.token))
			abort();
		for (i = 0; i < KWCLI_BATCH_FIELDS; i++)
			if (bl.f[i] != NULL && (bl.f[i] < line || bl.f[i] >= line + n))
				abort();
	}
}

static void
fuzz_secret(kw_view v)
{
	kwcli_secret_src src = { "PIN", secret_path, NULL, false };
	kw_secret s = { 0 };

	if (!write_file(secret_path, v))
		return;
	if (kwcli_secret_get(&src, &s) == KW_OK) {
		if (s.ptr == NULL || s.len == 0 || memchr(s.ptr, '\n', s.len) != NULL)
			abort();
	}
	kw_secret_free(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size);
	uint8_t sel = fz_u8(&in);
	kw_view v = fz_bytes(&in, in.n);

	switch (sel & 3) {
	case 0: fuzz_journal(v); break;
	case 1: fuzz_batch(v); break;
	default: fuzz_secret(v); break;
	}
	return 0;
}

/* cli_batch.c runs each line's enrollment and prints a report: not part
 * of what is fuzzed here (the enrollment needs a token and a KMS). */
int
kwcli_enroll_run(const kwcli_enroll_opts *o, json_t **res)
{
	(void)o;
	*res = NULL;
	return KWCLI_ERROR;
}
