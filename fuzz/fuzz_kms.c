/* Fuzz target: keyward-kmsd's request parsing (kms/), without a database
 * or HSM behind it.
 *
 * Input: a mode byte, then bytes. Mode bit 0 clear: the bytes are an HTTP
 * request body, loaded the way the server's dispatcher does (jansson,
 * duplicates rejected, must be an object), then every member an API
 * handler reads is taken with kms_req_str and its handler's bound and
 * checked with the validators the handlers use (kms_email_normalize,
 * kms_b64_decode). Mode bit 0 set: the bytes are key shares as share
 * servers return them (chunks of 2-byte length + bytes) for kms_combine,
 * Shamir or XOR by bit 1; and the first chunk, as a secret, must survive
 * kms_split -> kms_combine with any 2-of-3 / 3-of-3 choice.
 *
 * Checks: an error response always has a 4xx status; a normalized address
 * is lower-case, one '@', at most 254 bytes; decoded base64 fits 3/4 of
 * its text; split/combine round-trips. */
#include <ctype.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "kms_http.h"

#define KMS_MAX_SHARES 8

static const struct { const char *name; size_t max; } members[] = {
	{ "email", 254 }, { "value", 64 }, { "password", 1024 }, { "old_password", 1024 },
	{ "csr", 16384 }, { "serial", 40 }, { "level", 2 }, { "share", 8192 },
	{ "ephemeral_key", 4096 }, { "name", 256 }, { "organization", 256 },
};

static void
check_email(const char *s)
{
	char *e = kms_email_normalize(s);
	size_t i, n, at = 0;

	if (e == NULL)
		return;
	n = strlen(e);
	if (n > 254 || n < 3)
		abort();
	for (i = 0; i < n; i++) {
		if (isupper((unsigned char)e[i]) || !isgraph((unsigned char)e[i]))
			abort();
		at += e[i] == '@';
	}
	if (at != 1)
		abort();
	free(e);
}

static void
check_b64(const char *s)
{
	kw_buf out;

	kw_buf_init(&out, 1u << 16);
	if (kms_b64_decode(s, &out) == KW_OK && out.len > strlen(s) / 4 * 3)
		abort();
	kw_buf_free(&out);
}

static void
fuzz_body(kw_view body)
{
	json_error_t jerr;
	kms_req req;
	kms_resp resp;
	const char *s;
	json_t *jr;
	size_t i;

	memset(&req, 0, sizeof(req));
	req.json = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (req.json == NULL || !json_is_object(req.json))
		goto done;
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		memset(&resp, 0, sizeof(resp));
		s = kms_req_str(&req, &resp, members[i].name, members[i].max);
		if (s == NULL) {
			if (resp.status < 400 || resp.status > 499 || resp.json == NULL)
				abort();
		} else {
			if (strlen(s) > members[i].max)
				abort();
			check_email(s);
			check_b64(s);
		}
		json_decref(resp.json);
	}
	jr = json_object_get(req.json, "reason");
	if (json_is_integer(jr))
		(void)json_integer_value(jr);
done:
	json_decref(req.json);
}

static void
check_roundtrip(kw_view secret, bool xor_split, unsigned pick)
{
	kw_buf shares[3], again;
	kw_view v[3];
	unsigned i, m = xor_split ? 3 : 2;

	for (i = 0; i < 3; i++)
		kw_buf_init(&shares[i], 0);
	kw_buf_init(&again, 0);
	if (kms_split(secret, m, 3, xor_split, shares) != KW_OK)
		goto done;
	for (i = 0; i < m; i++)
		v[i] = kw_buf_view(&shares[(pick + i) % 3]);
	if (kms_combine(v, m, xor_split, &again) != KW_OK || !kw_view_equal(kw_buf_view(&again),
	    secret))
		abort();
done:
	for (i = 0; i < 3; i++)
		kw_buf_free(&shares[i]);
	kw_buf_free(&again);
}

static void
fuzz_shares(fz_in *in, bool xor_split, unsigned pick)
{
	kw_view v[KMS_MAX_SHARES];
	kw_buf secret;
	unsigned n = 0;

	while (in->n > 0 && n < KMS_MAX_SHARES)
		v[n++] = fz_chunk(in);
	kw_buf_init(&secret, 0);
	if (n > 0 && kms_combine(v, n, xor_split, &secret) == KW_OK &&
	    secret.len + (xor_split ? 0 : 1) != v[0].len)
		abort();
	kw_buf_free(&secret);
	if (n > 0 && v[0].len > 0 && v[0].len <= 512)
		check_roundtrip(v[0], xor_split, pick);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size);
	uint8_t mode = fz_u8(&in);

	if (mode & 1)
		fuzz_shares(&in, (mode & 2) != 0, mode >> 2);
	else
		fuzz_body(fz_bytes(&in, in.n));
	return 0;
}
