/* keyward-vcard state file: save/load round trip, mode 0600, atomic
 * replacement, corrupt and truncated files rejected without a crash. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "test_vcard_util.h"

static char dir[] = "/tmp/test_vcard_state.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static vcard_card *
populated_card(void)
{
	vcard_card *c = new_selected_card();

	c->version[1] = 7;
	assert_int_equal(vc_attest_init(c), KW_OK);
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	assert_int_equal(tx(c, "0047009C05AC03800111", NULL), 0x9000);
	assert_int_equal(tx(c, "0047008508AC06800114AB0102", NULL), 0x9000);
	assert_int_equal(tx(c, "0047008605AC038001E0", NULL), 0x9000);
	assert_int_equal(tx(c, "0047008705AC038001E1", NULL), 0x9000);
	assert_int_equal(tx_chain(c, 0x47, 0, 0x9D, (const uint8_t *)"\xAC\x03\x80\x01\x06", 5, NULL), 0x9000);
	assert_int_equal(tx(c, "00DB3FFF0C5C035FC10C530501020304FF", NULL), 0x9000);
	assert_int_equal(tx(c, "0024008010" PIN_123456 "3837363534333231", NULL), 0x9000);
	assert_int_equal(tx(c, "0020008108393939393939FFFF", NULL), 0x63C2);
	assert_int_equal(tx(c, "00FFFFFF13089B10" "00112233445566778899AABBCCDDEEFF", NULL), 0x9000);
	return c;
}

static void
test_roundtrip(void **state)
{
	vcard_card *c = populated_card(), *l = NULL;
	char path[256];
	struct stat st;
	size_t i;
	DIR *dp;
	struct dirent *de;
	int files = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/token.state", dir);
	assert_int_equal(vcard_state_load(c, path), KW_ERR_NOT_FOUND);
	assert_int_equal(vcard_state_save(c, path), KW_OK);
	assert_int_equal(vcard_state_save(c, path), KW_OK);   /* replace */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(dp = opendir(dir));
	while ((de = readdir(dp)) != NULL)
		files += de->d_name[0] != '.';
	closedir(dp);
	assert_int_equal(files, 1);   /* no temporary left behind */

	assert_int_equal(vcard_card_new(&l), KW_OK);
	assert_int_equal(vcard_state_load(l, path), KW_OK);
	assert_int_equal(l->serial, c->serial);
	assert_memory_equal(l->version, c->version, 3);
	assert_memory_equal(&l->pin, &c->pin, sizeof(c->pin));
	assert_memory_equal(&l->puk, &c->puk, sizeof(c->puk));
	assert_int_equal(l->puk.tries, 2);
	assert_int_equal(l->mgmt_alg, VC_ALG_AES128);
	assert_int_equal(l->mgmt_len, 16);
	assert_memory_equal(l->mgmt_key, c->mgmt_key, 16);
	for (i = 0; i < VC_NSLOTS; i++) {
		vc_key *a = &c->keys[i], *b = &l->keys[i];

		assert_int_equal(a->alg, b->alg);
		assert_int_equal(a->pin_policy, b->pin_policy);
		assert_int_equal(a->touch_policy, b->touch_policy);
		assert_int_equal(a->origin, b->origin);
		if (a->pkey != NULL)
			assert_int_equal(EVP_PKEY_eq(a->pkey, b->pkey), 1);
		else
			assert_null(b->pkey);
	}
	assert_int_equal(vc_key_slot(l, 0x85)->touch_policy, VC_TOUCH_ALWAYS);
	assert_non_null(vc_obj_find(l, 0x5FC10C));
	assert_non_null(vc_obj_find(l, 0x5FFF01));
	/* the loaded token works: attest 9C, PIN changed */
	assert_int_equal(tx(l, "00A4040005A000000308", NULL), 0x9000);
	{
		kw_buf d;

		kw_buf_init(&d, 0);
		assert_int_equal(tx_all(l, "00F99C0000", &d), 0x9000);
		assert_true(d.len > 300);
		kw_buf_free(&d);
	}
	assert_int_equal(tx(l, "00200080083837363534333231", NULL), 0x9000);
	vcard_card_free(&l);
	vcard_card_free(&c);
}

static kw_rv
decode_with_digest(vcard_card *c, const void *p, size_t n)
{
	uint8_t buf[128];

	memcpy(buf, p, n);
	buf[n] = 0x8F;
	buf[n + 1] = 32;
	SHA256(buf, n, buf + n + 2);
	return vcard_state_decode(c, kw_view_make(buf, n + 34));
}

static void
test_corrupt_files(void **state)
{
	vcard_card *c = populated_card(), *l = NULL;
	kw_buf enc;
	size_t n;

	(void)state;
	kw_buf_init(&enc, 1u << 24);
	assert_int_equal(vcard_state_encode(c, &enc), KW_OK);
	/* every truncation fails cleanly (step to keep it quick) */
	for (n = 0; n < enc.len; n += (n < 64 ? 1 : 37)) {
		assert_int_equal(vcard_card_new(&l), KW_OK);
		assert_int_not_equal(vcard_state_decode(l, kw_view_make(enc.data, n)), KW_OK);
		vcard_card_free(&l);
	}
	/* any flipped byte is caught by the digest */
	assert_int_equal(vcard_card_new(&l), KW_OK);
	assert_int_equal(vcard_state_decode(l, kw_buf_view(&enc)), KW_OK);
	enc.data[enc.len / 2] ^= 1;
	assert_int_equal(vcard_state_decode(l, kw_buf_view(&enc)), KW_ERR_FORMAT);
	enc.data[enc.len / 2] ^= 1;
	enc.data[0] ^= 1;
	assert_int_equal(vcard_state_decode(l, kw_buf_view(&enc)), KW_ERR_FORMAT);
	/* records with a valid digest but bad contents */
	assert_int_equal(decode_with_digest(l, "KWVCARD1\x99\x00", 10), KW_ERR_FORMAT);
	assert_int_equal(decode_with_digest(l, "KWVCARD1\x85\x04\x03\x01\x01\x02", 14), KW_ERR_FORMAT);
	assert_int_equal(decode_with_digest(l, "KWVCARD1\x83\x02\x01\x01", 12), KW_ERR_FORMAT);
	assert_int_equal(decode_with_digest(l, "KWVCARD1\xA1\x03\x80\x01\x9A", 13), KW_ERR_TRUNCATED);
	assert_int_equal(decode_with_digest(l, "KWVCARD1\xA1\x05\x80\x01\x9A\x81", 14), KW_ERR_TRUNCATED);
	assert_int_equal(decode_with_digest(l, "KWVCARD1\x81\x05\x01\x02\x03\x04\x05", 15), KW_ERR_TRAILING);
	vcard_card_free(&l);
	kw_buf_free(&enc);
	vcard_card_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_corrupt_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
