/* Replay tests: APDU transcripts (tests/unit/transcripts/NAME.apdu) run
 * through the PIV client over the mock transport. A transcript is a list
 * of steps:
 *     # comment
 *     @ OP[:ARG...] RESULT [EXPECT]
 *     > command APDU (hex)
 *     < response APDU (hex, with SW)
 * OP is one client call (see replay_op), RESULT the expected kw_rv name
 * without the KW_ERR_ prefix (OK, NOT_FOUND, ...), EXPECT the expected
 * output (hex bytes, or a number). The exchanges that follow a step are
 * exactly the APDUs the call must send, in order. Transcripts captured
 * from a token (with secrets replaced) can be added as they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kw_piv.h"
#include "piv_fake.h"

static const char *const transcripts[] = {
	"yk5-status.apdu",
	"sign-chained.apdu",
	"errors.apdu",
};

static const char *const rv_names[KW_ERR_MAX] = {
	[KW_OK] = "OK", [KW_ERR_ARG] = "ARG", [KW_ERR_FORMAT] = "FORMAT",
	[KW_ERR_TRUNCATED] = "TRUNCATED", [KW_ERR_TRAILING] = "TRAILING",
	[KW_ERR_NOT_FOUND] = "NOT_FOUND", [KW_ERR_SECURITY] = "SECURITY",
	[KW_ERR_PIN_INCORRECT] = "PIN_INCORRECT", [KW_ERR_PIN_BLOCKED] = "PIN_BLOCKED",
	[KW_ERR_CONDITIONS] = "CONDITIONS", [KW_ERR_WRONG_DATA] = "WRONG_DATA",
	[KW_ERR_CARD] = "CARD", [KW_ERR_PROTOCOL] = "PROTOCOL", [KW_ERR_RANGE] = "RANGE",
	[KW_ERR_INS_UNKNOWN] = "INS_UNKNOWN", [KW_ERR_NO_SPACE] = "NO_SPACE",
};

typedef struct step {
	char op[2048], result[32], expect[2048];
	int line;
} step;

static unsigned
num(const char *s)
{
	return (unsigned)strtoul(s, NULL, 16);
}

/* Run one call; *out gets its output as hex or decimal text. */
static kw_rv
replay_op(kw_piv *p, char *op, char *out, size_t outsz)
{
	char *name = strtok(op, ":"), *a1 = strtok(NULL, ":"), *a2 = strtok(NULL, ":"),
	    *a3 = strtok(NULL, ":");
	kw_piv_key_history kh;
	kw_piv_metadata md;
	EVP_PKEY *pub = NULL;
	uint8_t ver[3];
	uint32_t serial;
	kw_buf b, in;
	int tries = -1;
	kw_rv rv = KW_ERR_INTERNAL;

	out[0] = '\0';
	kw_buf_init(&b, 0);
	kw_buf_init(&in, 0);
	if (strcmp(name, "select") == 0) {
		rv = kw_piv_select(p);
	} else if (strcmp(name, "version") == 0) {
		if ((rv = kw_piv_get_version(p, ver)) == KW_OK)
			kw_hex_encode(ver, 3, out, outsz);
	} else if (strcmp(name, "serial") == 0) {
		if ((rv = kw_piv_get_serial(p, &serial)) == KW_OK)
			snprintf(out, outsz, "%u", serial);
	} else if (strcmp(name, "pin_status") == 0) {
		rv = kw_piv_pin_status(p, KW_PIV_REF_PIN, &tries);
		snprintf(out, outsz, "%d", tries);
	} else if (strcmp(name, "verify") == 0) {
		assert_int_equal(kw_hex_decode(a1, &in), KW_OK);
		rv = kw_piv_verify(p, KW_PIV_REF_PIN, in.data, in.len, &tries);
		snprintf(out, outsz, "%d", tries);
	} else if (strcmp(name, "get_data") == 0) {
		if ((rv = kw_piv_get_data(p, num(a1), &b)) == KW_OK)
			kw_hex_encode(b.data, b.len, out, outsz);
	} else if (strcmp(name, "read_cert") == 0) {
		if ((rv = kw_piv_read_cert(p, (uint8_t)num(a1), &b)) == KW_OK)
			kw_hex_encode(b.data, b.len, out, outsz);
	} else if (strcmp(name, "metadata") == 0) {
		if ((rv = kw_piv_get_metadata(p, (uint8_t)num(a1), &md)) == KW_OK) {
			snprintf(out, outsz, "%02X%02X%02X%02X%s", md.alg, md.pin_policy,
			    md.touch_policy, md.origin, md.pubkey != NULL ? "+pub" : "");
			kw_piv_metadata_clear(&md);
		}
	} else if (strcmp(name, "key_history") == 0) {
		if ((rv = kw_piv_read_key_history(p, &kh)) == KW_OK)
			snprintf(out, outsz, "%d/%d/%s", kh.on_card_certs, kh.off_card_certs, kh.url);
	} else if (strcmp(name, "generate") == 0) {
		rv = kw_piv_generate(p, (uint8_t)num(a1), (uint8_t)num(a2), 0, 0, &pub);
		if (rv == KW_OK)
			snprintf(out, outsz, "%02X", kw_piv_alg_of_pkey(pub));
		EVP_PKEY_free(pub);
	} else if (strcmp(name, "sign") == 0) {
		assert_int_equal(kw_hex_decode(a3, &in), KW_OK);
		rv = kw_piv_private_op(p, (uint8_t)num(a1), (uint8_t)num(a2), in.data, in.len, &b);
		if (rv == KW_OK)
			kw_hex_encode(b.data, b.len, out, outsz);
	} else {
		fail_msg("unknown transcript op %s", name);
	}
	kw_buf_free(&b);
	kw_buf_free(&in);
	return rv;
}

static void
run_step(kw_transport *t, kw_piv *p, step *s)
{
	kw_mock *m = kw_mock_of(t);
	char out[2048];
	kw_rv rv = replay_op(p, s->op, out, sizeof(out));

	if (rv >= KW_ERR_MAX || rv_names[rv] == NULL || strcmp(rv_names[rv], s->result) != 0)
		fail_msg("line %d: got %s (%d), want %s", s->line, kw_strerror(rv), rv, s->result);
	if (s->expect[0] != '\0' && strcmp(out, s->expect) != 0)
		fail_msg("line %d: output %.200s, want %.200s", s->line, out, s->expect);
	if (kw_mock_pending(m) != 0 || kw_mock_mismatches(m) != 0)
		fail_msg("line %d: %zu exchanges left, %zu mismatched", s->line,
		    kw_mock_pending(m), kw_mock_mismatches(m));
}

static void
replay_file(const char *name)
{
	char path[4096], line[8192], cmd[8192];
	const char *top = getenv("KW_TOP_SRCDIR");
	kw_transport *t;
	kw_piv *p;
	step s;
	int n = 0, have = 0, steps = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/transcripts/%s", top ? top : ".", name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (set KW_TOP_SRCDIR)", path);
	fake_open(NULL, &t, &p);
	cmd[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '@') {
			if (have)
				run_step(t, p, &s);
			memset(&s, 0, sizeof(s));
			if (sscanf(line, "@ %2047s %31s %2047s", s.op, s.result, s.expect) < 2)
				fail_msg("%s:%d: bad step", name, n);
			s.line = n;
			have = 1;
			steps++;
		} else if (line[0] == '>') {
			snprintf(cmd, sizeof(cmd), "%s", line + 1);
		} else if (line[0] == '<') {
			if (cmd[0] == '\0')
				fail_msg("%s:%d: response without command", name, n);
			assert_int_equal(kw_mock_expect(kw_mock_of(t), cmd, line + 1), KW_OK);
			cmd[0] = '\0';
		}
	}
	if (have)
		run_step(t, p, &s);
	fclose(f);
	assert_true(steps > 0);
	fake_close(NULL, &t, &p);
}

static void
test_replay(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(transcripts) / sizeof(transcripts[0]); i++)
		replay_file(transcripts[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
