/* kw_piv_cert.c and kw_piv_history.c: certificate objects (plain and gzip),
 * retired-slot tags, Key History; malformed objects of every kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <zlib.h>

#include "kw_piv.h"
#include "kw_tlv.h"
#include "piv_fake.h"

/* A fake DER "certificate" of n bytes: 30 82 len filler. */
static void
make_der(kw_buf *b, size_t n)
{
	size_t i;

	kw_buf_init(b, 0);
	assert_int_equal(kw_tlv_put_header(b, 0x30, n - 4), KW_OK);
	for (i = 0; i < n - 4; i++)
		assert_int_equal(kw_buf_put_u8(b, (uint8_t)("certificate"[i % 11] + i / 512)), KW_OK);
}

static void
gzip_buf(kw_view in, kw_buf *out)
{
	z_stream z;
	uint8_t tmp[70000];

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in.ptr;
	z.avail_in = (uInt)in.len;
	z.next_out = tmp;
	z.avail_out = sizeof(tmp);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	kw_buf_init(out, 0);
	assert_int_equal(kw_buf_put(out, tmp, sizeof(tmp) - z.avail_out), KW_OK);
	deflateEnd(&z);
}

/* Certificate object: 70 cert 71 info FE 00. */
static void
cert_obj(kw_buf *obj, kw_view cert, int info)
{
	uint8_t i = (uint8_t)info;

	kw_buf_init(obj, 0);
	assert_int_equal(kw_tlv_put(obj, 0x70, cert.ptr, cert.len), KW_OK);
	if (info >= 0)
		assert_int_equal(kw_tlv_put(obj, 0x71, &i, 1), KW_OK);
	assert_int_equal(kw_tlv_put(obj, 0xfe, NULL, 0), KW_OK);
}

static void
test_slot_tags(void **state)
{
	static const struct { uint8_t slot; uint32_t tag; } v[] = {
		{ 0x9a, 0x5fc105 }, { 0x9c, 0x5fc10a }, { 0x9d, 0x5fc10b }, { 0x9e, 0x5fc101 },
		{ 0x82, 0x5fc10d }, { 0x83, 0x5fc10e }, { 0x95, 0x5fc120 }, { 0xf9, 0x5fff01 },
		{ 0x9b, 0 }, { 0x80, 0 }, { 0x81, 0 }, { 0x96, 0 }, { 0x00, 0 }, { 0xff, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(kw_piv_slot_cert_tag(v[i].slot), v[i].tag);
		assert_int_equal(kw_piv_slot_is_key(v[i].slot), v[i].tag != 0);
	}
}

static void
test_read_cert_plain_and_gzip(void **state)
{
	kw_buf der, z, obj, resp, out;
	kw_transport *t;
	kw_piv *p;
	char *hex;

	(void)state;
	make_der(&der, 1500);
	gzip_buf(kw_buf_view(&der), &z);
	kw_buf_init(&out, 0);
	fake_open(NULL, &t, &p);
	/* plain, slot 9C */
	cert_obj(&obj, kw_buf_view(&der), 0);
	kw_buf_init(&resp, 0);
	assert_int_equal(kw_tlv_put(&resp, 0x53, obj.data, obj.len), KW_OK);
	assert_int_equal(kw_buf_put(&resp, "\x90\x00", 2), KW_OK);
	hex = hex_of(resp.data, resp.len);
	fake_expect(t, "00CB3FFF055C035FC10A00", hex);
	free(hex);
	assert_int_equal(kw_piv_read_cert(p, 0x9c, &out), KW_OK);
	assert_int_equal(out.len, der.len);
	assert_memory_equal(out.data, der.data, der.len);
	/* gzip, retired slot 95, with an MSCUID */
	kw_buf_free(&obj);
	cert_obj(&obj, kw_buf_view(&z), 1);
	assert_int_equal(kw_tlv_put(&obj, 0x72, "\x01\x02", 2), KW_OK);
	kw_buf_reset(&resp);
	assert_int_equal(kw_tlv_put(&resp, 0x53, obj.data, obj.len), KW_OK);
	assert_int_equal(kw_buf_put(&resp, "\x90\x00", 2), KW_OK);
	hex = hex_of(resp.data, resp.len);
	fake_expect(t, "00CB3FFF055C035FC12000", hex);
	free(hex);
	assert_int_equal(kw_piv_read_cert(p, 0x95, &out), KW_OK);
	assert_int_equal(out.len, der.len);
	assert_memory_equal(out.data, der.data, der.len);
	/* absent or empty */
	fake_expect(t, "00CB3FFF055C035FC10500", "6A82");
	assert_int_equal(kw_piv_read_cert(p, 0x9a, &out), KW_ERR_NOT_FOUND);
	fake_expect(t, "00CB3FFF055C035FC10500", "53009000");
	assert_int_equal(kw_piv_read_cert(p, 0x9a, &out), KW_ERR_NOT_FOUND);
	assert_int_equal(out.len, 0);
	assert_int_equal(kw_piv_read_cert(p, 0x9b, &out), KW_ERR_ARG);
	assert_int_equal(kw_piv_read_cert(p, 0x9a, NULL), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
	kw_buf_free(&der);
	kw_buf_free(&z);
	kw_buf_free(&obj);
	kw_buf_free(&resp);
	kw_buf_free(&out);
}

static void
parse_hex(const char *hex, kw_rv want)
{
	kw_buf in, out;

	hex_buf(&in, hex);
	kw_buf_init(&out, 0);
	assert_int_equal(kw_buf_put(&out, "x", 1), KW_OK);
	if (kw_piv_cert_parse(kw_buf_view(&in), &out) != want)
		fail_msg("%s", hex);
	if (want != KW_OK)
		assert_int_equal(out.len, 0);
	kw_buf_free(&in);
	kw_buf_free(&out);
}

static void
test_cert_parse_malformed(void **state)
{
	(void)state;
	parse_hex("70053003020105" "710100" "FE00", KW_OK);
	parse_hex("70053003020105", KW_OK);                       /* 71/FE optional */
	parse_hex("FE00" "710100" "70053003020105", KW_OK);       /* any order */
	parse_hex("", KW_ERR_FORMAT);                             /* no 70 */
	parse_hex("710100FE00", KW_ERR_FORMAT);
	parse_hex("70053003020105" "70053003020105", KW_ERR_FORMAT); /* duplicate */
	parse_hex("70053003020105" "710100" "710100", KW_ERR_FORMAT);
	parse_hex("70053003020105" "730100", KW_ERR_FORMAT);       /* unknown tag */
	parse_hex("70053003020105" "71020000", KW_ERR_FORMAT);     /* CertInfo length */
	parse_hex("70053003020105" "7100", KW_ERR_FORMAT);
	parse_hex("7009300302010571", KW_ERR_TRUNCATED);           /* 70 over the end */
	parse_hex("70053003020105" "71", KW_ERR_TRUNCATED);
	parse_hex("7085000000000030", KW_ERR_FORMAT);              /* over-long length */
	parse_hex("70063003020105FF", KW_ERR_TRAILING);            /* DER + junk */
	parse_hex("70043003020105", KW_ERR_TRUNCATED);             /* 70 shorter: next TLV bad */
	parse_hex("70053103020105", KW_ERR_FORMAT);                /* not a SEQUENCE */
	parse_hex("70053004020105", KW_ERR_TRUNCATED);             /* inner length */
	parse_hex("7000", KW_ERR_TRUNCATED);                       /* empty certificate */
	parse_hex("70050102030405" "710101", KW_ERR_FORMAT);       /* not gzip */
}

static void
parse_gz(kw_view payload, int cut, const char *junk, kw_rv want)
{
	kw_buf z, obj, out;

	gzip_buf(payload, &z);
	if (cut > 0)
		z.len -= (size_t)cut;
	if (junk != NULL)
		assert_int_equal(kw_buf_put(&z, junk, strlen(junk)), KW_OK);
	cert_obj(&obj, kw_buf_view(&z), 1);
	kw_buf_init(&out, 0);
	assert_int_equal(kw_piv_cert_parse(kw_buf_view(&obj), &out), want);
	if (want == KW_OK)
		assert_true(kw_view_equal(kw_buf_view(&out), payload));
	else
		assert_int_equal(out.len, 0);
	kw_buf_free(&z);
	kw_buf_free(&obj);
	kw_buf_free(&out);
}

static void
test_cert_parse_gzip_malformed(void **state)
{
	kw_buf der, bomb;

	(void)state;
	make_der(&der, 3000);
	parse_gz(kw_buf_view(&der), 0, NULL, KW_OK);
	parse_gz(kw_buf_view(&der), 10, NULL, KW_ERR_TRUNCATED);
	parse_gz(kw_buf_view(&der), 0, "junk", KW_ERR_TRAILING);
	/* Decompresses to something that is not one DER SEQUENCE. */
	parse_gz(kw_view_make("\x30\x01\x05\x05", 4), 0, NULL, KW_ERR_TRAILING);
	/* A bomb: more than 64 KiB once inflated. */
	make_der(&bomb, 70000);
	parse_gz(kw_buf_view(&bomb), 0, NULL, KW_ERR_RANGE);
	/* Corrupt deflate data. */
	parse_hex("700D1F8B0800000000000003FFFFFF" "710101", KW_ERR_FORMAT);
	kw_buf_free(&der);
	kw_buf_free(&bomb);
}

static uint16_t
store_answer(void *arg, const fake_cmd *c, kw_buf *resp)
{
	kw_buf *objs = arg;   /* [0] tag list, [1] object */
	kw_view v = c->data, tl, val;
	uint32_t tag;

	if (kw_tlv_expect(&v, 0x5c, &tl) != KW_OK)
		return 0x6a80;
	if (c->ins == 0xcb) {
		if (!kw_view_equal(tl, kw_buf_view(&objs[0])))
			return 0x6a82;
		assert_int_equal(kw_tlv_put(resp, 0x53, objs[1].data, objs[1].len), KW_OK);
		return 0x9000;
	}
	if (kw_tlv_get(&v, &tag, &val) != KW_OK || tag != 0x53 || v.len != 0)
		return 0x6a80;
	if (val.len > 3052)
		return 0x6a84;   /* as a YubiKey */
	kw_buf_reset(&objs[0]);
	kw_buf_reset(&objs[1]);
	assert_int_equal(kw_buf_put_view(&objs[0], tl), KW_OK);
	assert_int_equal(kw_buf_put_view(&objs[1], val), KW_OK);
	return 0x9000;
}

static void
test_write_cert_roundtrip(void **state)
{
	kw_buf objs[2], der, out;
	fake_card card = { .answer = store_answer, .arg = objs };
	kw_transport *t;
	kw_piv *p;
	kw_view v, val;

	(void)state;
	kw_buf_init(&objs[0], 0);
	kw_buf_init(&objs[1], 0);
	kw_buf_init(&out, 0);
	fake_open(&card, &t, &p);
	/* Small: stored plain, CertInfo 00. */
	make_der(&der, 1200);
	assert_int_equal(kw_piv_write_cert(p, 0x9d, der.data, der.len), KW_OK);
	assert_view_hex(kw_buf_view(&objs[0]), "5FC10B");
	v = kw_buf_view(&objs[1]);
	assert_int_equal(kw_tlv_find(v, 0x71, &val), KW_OK);
	assert_view_hex(val, "00");
	assert_int_equal(kw_tlv_find(v, 0xfe, &val), KW_OK);
	assert_int_equal(kw_piv_read_cert(p, 0x9d, &out), KW_OK);
	assert_true(kw_view_equal(kw_buf_view(&out), kw_buf_view(&der)));
	kw_buf_free(&der);
	/* Too large for the card plain: written gzip-compressed. */
	make_der(&der, 6000);
	assert_int_equal(kw_piv_write_cert(p, 0x82, der.data, der.len), KW_OK);
	assert_view_hex(kw_buf_view(&objs[0]), "5FC10D");
	v = kw_buf_view(&objs[1]);
	assert_int_equal(kw_tlv_find(v, 0x71, &val), KW_OK);
	assert_view_hex(val, "01");
	assert_true(objs[1].len < 3052);
	assert_int_equal(kw_piv_read_cert(p, 0x82, &out), KW_OK);
	assert_true(kw_view_equal(kw_buf_view(&out), kw_buf_view(&der)));
	/* Argument checks. */
	assert_int_equal(kw_piv_write_cert(p, 0x9b, der.data, der.len), KW_ERR_ARG);
	assert_int_equal(kw_piv_write_cert(p, 0x9a, NULL, 0), KW_ERR_ARG);
	assert_int_equal(kw_piv_write_cert(p, 0x9a, (const uint8_t *)"\x30\x01", 2), KW_ERR_ARG);
	assert_int_equal(kw_piv_write_cert(p, 0x9a, der.data, der.len - 1), KW_ERR_ARG);
	fake_close(&card, &t, &p);
	kw_buf_free(&der);
	kw_buf_free(&out);
	kw_buf_free(&objs[0]);
	kw_buf_free(&objs[1]);
}

static void
test_write_delete_cert_bytes(void **state)
{
	kw_transport *t;
	kw_piv *p;

	(void)state;
	fake_open(NULL, &t, &p);
	fake_expect(t, "00DB3FFF135C035FC10A530C" "70053003020105" "710100" "FE00", "9000");
	assert_int_equal(kw_piv_write_cert(p, 0x9c, (const uint8_t *)"\x30\x03\x02\x01\x05", 5),
	    KW_OK);
	fake_expect(t, "00DB3FFF075C035FC10A5300", "9000");
	assert_int_equal(kw_piv_delete_cert(p, 0x9c), KW_OK);
	fake_expect(t, "00DB3FFF075C035FFF015300", "6A84");
	assert_int_equal(kw_piv_delete_cert(p, 0xf9), KW_ERR_NO_SPACE);
	assert_int_equal(kw_piv_delete_cert(p, 0x80), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
}

static void
kh_parse(const char *hex, kw_rv want, int on, int off, const char *url)
{
	kw_piv_key_history kh;
	kw_buf in;

	hex_buf(&in, hex);
	memset(&kh, 0x55, sizeof(kh));
	assert_int_equal(kw_piv_key_history_parse(kw_buf_view(&in), &kh), want);
	assert_int_equal(kh.on_card_certs, on);
	assert_int_equal(kh.off_card_certs, off);
	assert_string_equal(kh.url, url);
	kw_buf_free(&in);
}

static void
test_key_history_parse(void **state)
{
	(void)state;
	kh_parse("C10103C20100FE00", KW_OK, 3, 0, "");
	kh_parse("C10101C20102F30F687474703A2F2F782E6578616D706CFE00", KW_OK, 1, 2,
	    "http://x.exampl");
	kh_parse("C10114C20100", KW_OK, 20, 0, "");
	kh_parse("C10115C20100", KW_ERR_FORMAT, 0, 0, "");            /* 21 */
	kh_parse("C1010AC2010B", KW_ERR_FORMAT, 0, 0, "");            /* sum 21 */
	kh_parse("C10203C20100", KW_ERR_FORMAT, 0, 0, "");            /* C1 length */
	kh_parse("C100C20100", KW_ERR_FORMAT, 0, 0, "");
	kh_parse("C10103", KW_ERR_FORMAT, 0, 0, "");                  /* no C2 */
	kh_parse("C20100", KW_ERR_FORMAT, 0, 0, "");                  /* no C1 */
	kh_parse("C10103C20100C10101", KW_ERR_FORMAT, 0, 0, "");      /* duplicate */
	kh_parse("C10103C20100D000", KW_ERR_FORMAT, 0, 0, "");        /* unknown tag */
	kh_parse("C10103C20101F3026101", KW_ERR_FORMAT, 0, 0, "");    /* control char */
	kh_parse("C10103C20101F3026100", KW_ERR_FORMAT, 0, 0, "");    /* NUL in URL */
	kh_parse("C10103C201", KW_ERR_TRUNCATED, 0, 0, "");
	kh_parse("C10103C2830000", KW_ERR_TRUNCATED, 0, 0, "");
	kh_parse("C10103C2840000000100", KW_ERR_FORMAT, 0, 0, "");    /* over-long */
	kh_parse("", KW_ERR_FORMAT, 0, 0, "");
}

static void
test_key_history_long_url(void **state)
{
	kw_piv_key_history kh;
	kw_buf in;
	char url[300];

	(void)state;
	memset(url, 'a', sizeof(url));
	kw_buf_init(&in, 0);
	assert_int_equal(kw_buf_put(&in, "\xc1\x01\x00\xc2\x01\x01", 6), KW_OK);
	assert_int_equal(kw_tlv_put(&in, 0xf3, url, 255), KW_OK);
	assert_int_equal(kw_piv_key_history_parse(kw_buf_view(&in), &kh), KW_OK);
	assert_int_equal(strlen(kh.url), 255);
	kw_buf_reset(&in);
	assert_int_equal(kw_buf_put(&in, "\xc1\x01\x00\xc2\x01\x01", 6), KW_OK);
	assert_int_equal(kw_tlv_put(&in, 0xf3, url, 256), KW_OK);
	assert_int_equal(kw_piv_key_history_parse(kw_buf_view(&in), &kh), KW_ERR_FORMAT);
	assert_int_equal(kw_piv_key_history_parse(kw_buf_view(&in), NULL), KW_ERR_ARG);
	kw_buf_free(&in);
}

static void
test_key_history_read_write(void **state)
{
	kw_piv_key_history kh;
	kw_transport *t;
	kw_piv *p;

	(void)state;
	fake_open(NULL, &t, &p);
	fake_expect(t, "00CB3FFF055C035FC10C00", "5308C10102C20100FE009000");
	assert_int_equal(kw_piv_read_key_history(p, &kh), KW_OK);
	assert_int_equal(kh.on_card_certs, 2);
	assert_int_equal(kh.off_card_certs, 0);
	fake_expect(t, "00CB3FFF055C035FC10C00", "6A82");
	assert_int_equal(kw_piv_read_key_history(p, &kh), KW_ERR_NOT_FOUND);
	fake_expect(t, "00CB3FFF055C035FC10C00", "53009000");
	assert_int_equal(kw_piv_read_key_history(p, &kh), KW_ERR_NOT_FOUND);
	fake_expect(t, "00CB3FFF055C035FC10C00", "5306C10102C2019000");
	assert_int_equal(kw_piv_read_key_history(p, &kh), KW_ERR_TRUNCATED);
	assert_int_equal(kh.on_card_certs, 0);

	memset(&kh, 0, sizeof(kh));
	kh.on_card_certs = 3;
	fake_expect(t, "00DB3FFF0F5C035FC10C5308C10103C20100FE00", "9000");
	assert_int_equal(kw_piv_write_key_history(p, &kh), KW_OK);
	kh.off_card_certs = 1;
	strcpy(kh.url, "http://a");
	fake_expect(t, "00DB3FFF195C035FC10C5312C10103C20101F308687474703A2F2F61FE00", "9000");
	assert_int_equal(kw_piv_write_key_history(p, &kh), KW_OK);
	kh.url[0] = '\0';   /* off-card certificates need their URL */
	assert_int_equal(kw_piv_write_key_history(p, &kh), KW_ERR_ARG);
	kh.off_card_certs = 0;
	kh.on_card_certs = 21;
	assert_int_equal(kw_piv_write_key_history(p, &kh), KW_ERR_ARG);
	kh.on_card_certs = -1;
	assert_int_equal(kw_piv_write_key_history(p, &kh), KW_ERR_ARG);
	assert_int_equal(kw_piv_write_key_history(p, NULL), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_tags),
		cmocka_unit_test(test_read_cert_plain_and_gzip),
		cmocka_unit_test(test_cert_parse_malformed),
		cmocka_unit_test(test_cert_parse_gzip_malformed),
		cmocka_unit_test(test_write_cert_roundtrip),
		cmocka_unit_test(test_write_delete_cert_bytes),
		cmocka_unit_test(test_key_history_parse),
		cmocka_unit_test(test_key_history_long_url),
		cmocka_unit_test(test_key_history_read_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
