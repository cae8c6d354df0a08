/* Fuzz target: the PIV object parsers of src/kw_piv.h (no APDUs).
 *
 * Built once per parser with -DFUZZ_PIV_PARSER=<n> (fuzz_piv_cert,
 * fuzz_piv_key_history, ... see fuzz/local.mk) so each has its own
 * corpus; without the macro the first input byte picks the parser. The
 * input is the object's contents as the card would return them.
 *
 * Checks: a failing parser leaves its output cleared; a successful one
 * yields fields within their bounds, and the objects keyward writes
 * itself (CHUID, CCC) survive build -> parse unchanged. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "kw_piv.h"
#include "kw_secret.h"

enum {
	P_CERT, P_KEY_HISTORY, P_METADATA, P_CHUID, P_CCC, P_DISCOVERY, P_ADMIN,
	P_MGMT_KEY, P_COUNT
};

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void
fuzz_cert(kw_view v)
{
	kw_buf der;
	kw_rv rv;

	kw_buf_init(&der, KW_MAX_RESPONSE);
	(void)kw_buf_put(&der, "old", 3);
	rv = kw_piv_cert_parse(v, &der);
	if ((rv != KW_OK && der.len != 0) || (rv == KW_OK && der.len == 0))
		abort();
	kw_buf_free(&der);
}

static void
fuzz_key_history(kw_view v)
{
	kw_piv_key_history kh;

	memset(&kh, 0xA5, sizeof(kh));
	if (kw_piv_key_history_parse(v, &kh) != KW_OK) {
		if (!all_zero(&kh, sizeof(kh)))
			abort();
		return;
	}
	if (kh.on_card_certs < 0 || kh.off_card_certs < 0 ||
	    memchr(kh.url, '\0', sizeof(kh.url)) == NULL)
		abort();
}

static void
fuzz_metadata(kw_view v)
{
	kw_piv_metadata md;

	memset(&md, 0, sizeof(md));
	if (kw_piv_metadata_parse(v, &md) != KW_OK) {
		if (md.pubkey != NULL)
			abort();
		return;
	}
	if (md.retries_total < -1 || md.retries_left < -1)
		abort();
	if (md.pubkey != NULL && kw_piv_alg_of_pkey(md.pubkey) == 0 &&
	    !kw_piv_alg_is_25519(md.alg))
		abort();
	kw_piv_metadata_clear(&md);
	if (md.pubkey != NULL)
		abort();
}

static void
fuzz_chuid(kw_view v)
{
	kw_piv_chuid c, again;
	kw_buf b;

	memset(&c, 0xA5, sizeof(c));
	if (kw_piv_chuid_parse(v, &c) != KW_OK) {
		if (!all_zero(&c, sizeof(c)))
			abort();
		return;
	}
	if (memchr(c.expiry, '\0', sizeof(c.expiry)) == NULL)
		abort();
	if (strlen(c.expiry) != 8)
		return;
	kw_buf_init(&b, 256);
	if (kw_piv_chuid_build(c.fascn, c.guid, c.expiry, &b) == KW_OK) {
		if (kw_piv_chuid_parse(kw_buf_view(&b), &again) != KW_OK ||
		    memcmp(again.fascn, c.fascn, sizeof(c.fascn)) != 0 ||
		    memcmp(again.guid, c.guid, sizeof(c.guid)) != 0 ||
		    strcmp(again.expiry, c.expiry) != 0)
			abort();
	}
	kw_buf_free(&b);
}

static void
fuzz_ccc(kw_view v)
{
	kw_piv_ccc c, again;
	kw_buf b;

	memset(&c, 0xA5, sizeof(c));
	if (kw_piv_ccc_parse(v, &c) != KW_OK) {
		if (!all_zero(&c, sizeof(c)))
			abort();
		return;
	}
	/* Our own CCC: the card identifier's last 14 bytes are ours. */
	kw_buf_init(&b, 256);
	if (kw_piv_ccc_build(c.card_id + 7, &b) != KW_OK ||
	    kw_piv_ccc_parse(kw_buf_view(&b), &again) != KW_OK ||
	    memcmp(again.card_id + 7, c.card_id + 7, 14) != 0)
		abort();
	kw_buf_free(&b);
}

static void
fuzz_discovery(kw_view v)
{
	kw_piv_discovery d;

	memset(&d, 0xA5, sizeof(d));
	if (kw_piv_discovery_parse(v, &d) != KW_OK) {
		if (!all_zero(&d, sizeof(d)))
			abort();
		return;
	}
	if (d.aid_len > sizeof(d.aid) || d.aid_len < 5)
		abort();
}

static void
fuzz_admin(kw_view v)
{
	kw_piv_admin a;

	memset(&a, 0xA5, sizeof(a));
	if (kw_piv_admin_parse(v, &a) != KW_OK && (a.flags != 0 || a.has_salt ||
	    a.pin_timestamp != 0))
		abort();
}

static void
fuzz_mgmt_key(kw_view v)
{
	kw_secret key = KW_SECRET_EMPTY;

	if (kw_piv_protected_mgmt_key_parse(v, &key) != KW_OK) {
		if (key.ptr != NULL || key.len != 0)
			abort();
		return;
	}
	if (key.ptr == NULL || (key.len != 16 && key.len != 24 && key.len != 32))
		abort();
	kw_secret_free(&key);
}

static void
fuzz_one(int which, kw_view v)
{
	switch (which) {
	case P_CERT: fuzz_cert(v); break;
	case P_KEY_HISTORY: fuzz_key_history(v); break;
	case P_METADATA: fuzz_metadata(v); break;
	case P_CHUID: fuzz_chuid(v); break;
	case P_CCC: fuzz_ccc(v); break;
	case P_DISCOVERY: fuzz_discovery(v); break;
	case P_ADMIN: fuzz_admin(v); break;
	default: fuzz_mgmt_key(v); break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef FUZZ_PIV_PARSER
	fuzz_one(FUZZ_PIV_PARSER, kw_view_make(data, size));
#else
	if (size > 0)
		fuzz_one(data[0] % P_COUNT, kw_view_make(data + 1, size - 1));
#endif
	return 0;
}
