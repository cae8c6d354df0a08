/* Certificate objects (SP 800-73-4 part 1, table 10..): 70 certificate,
 * 71 CertInfo (bit 0: gzip compressed), 72 MSCUID (optional), FE LRC. */
#include <string.h>

#include <zlib.h>

#include "kw_apdu.h"
#include "kw_log.h"
#include "kw_piv_int.h"
#include "kw_secret.h"
#include "kw_tlv.h"

#define KW_PIV_CERT_MAX (64u * 1024u)    /* a decompressed certificate */
#define KW_PIV_CERTINFO_GZIP 0x01
/* Objects larger than this are written compressed (YubiKey's limit). */
#define KW_PIV_CERT_OBJ_PLAIN_MAX 3052u

enum { SEEN_CERT = 1, SEEN_INFO = 2, SEEN_MSCUID = 4, SEEN_LRC = 8 };

/* gzip (or zlib) stream in, DER out; the whole input must be one stream. */
static kw_rv
piv_gunzip(kw_view in, kw_buf *out)
{
	uint8_t chunk[4096];
	z_stream z;
	int zr = Z_OK;
	kw_rv rv = KW_OK;
	size_t n;

	memset(&z, 0, sizeof(z));
	if (in.len > UINT32_MAX || inflateInit2(&z, 15 + 32) != Z_OK)
		return KW_ERR_NOMEM;
	z.next_in = (Bytef *)(uintptr_t)in.ptr;
	z.avail_in = (uInt)in.len;
	while (rv == KW_OK && zr != Z_STREAM_END) {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			rv = zr == Z_BUF_ERROR ? KW_ERR_TRUNCATED :
			    zr == Z_MEM_ERROR ? KW_ERR_NOMEM : KW_ERR_FORMAT;
			break;
		}
		n = sizeof(chunk) - z.avail_out;
		if (n > KW_PIV_CERT_MAX - out->len)
			rv = KW_ERR_RANGE;
		else
			rv = kw_buf_put(out, chunk, n);
	}
	if (rv == KW_OK && z.avail_in != 0)
		rv = KW_ERR_TRAILING;
	inflateEnd(&z);
	kw_memzero(chunk, sizeof(chunk));
	return rv;
}

static kw_rv
piv_gzip(kw_view in, kw_buf *out)
{
	z_stream z;
	uLong bound;
	kw_rv rv = KW_ERR_CRYPTO;

	memset(&z, 0, sizeof(z));
	if (in.len > KW_PIV_CERT_MAX ||
	    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return KW_ERR_NOMEM;
	bound = deflateBound(&z, (uLong)in.len) + 32;
	if ((rv = kw_buf_reserve(out, bound)) != KW_OK)
		goto fail;
	z.next_in = (Bytef *)(uintptr_t)in.ptr;
	z.avail_in = (uInt)in.len;
	z.next_out = out->data + out->len;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		rv = KW_ERR_INTERNAL;
		goto fail;
	}
	out->len += bound - z.avail_out;
	rv = KW_OK;
fail:
	deflateEnd(&z);
	return rv;
}

/* A DER certificate: one SEQUENCE, nothing after it. */
static kw_rv
piv_check_der(kw_view v)
{
	kw_view inner;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&v, 0x30, &inner)) != KW_OK)
		return rv;
	return kw_view_expect_end(&v);
}

static kw_rv
piv_cert_fields(kw_view v, kw_view *cert, uint8_t *info)
{
	unsigned seen = 0, bit;
	uint32_t tag;
	kw_view val;
	kw_rv rv;

	*info = 0;
	while (!kw_view_empty(&v)) {
		if ((rv = kw_tlv_get(&v, &tag, &val)) != KW_OK)
			return rv;
		switch (tag) {
		case 0x70: bit = SEEN_CERT; *cert = val; break;
		case 0x71: bit = SEEN_INFO; break;
		case 0x72: bit = SEEN_MSCUID; break;
		case 0xfe: bit = SEEN_LRC; break;
		default: return KW_ERR_FORMAT;
		}
		if ((seen & bit) != 0)
			return KW_ERR_FORMAT;
		seen |= bit;
		if (tag == 0x71 && (val.len != 1 || kw_piv_tlv_u8(val, info) != KW_OK))
			return KW_ERR_FORMAT;
	}
	return (seen & SEEN_CERT) != 0 ? KW_OK : KW_ERR_FORMAT;
}

/* Parse the contents of a certificate object into DER (exposed for fuzzing
 * through kw_piv_cert_parse). */
kw_rv
kw_piv_cert_parse(kw_view obj, kw_buf *der)
{
	kw_view cert = { NULL, 0 };
	uint8_t info;
	kw_rv rv;

	if (der == NULL)
		return KW_ERR_ARG;
	kw_buf_reset(der);
	if ((rv = piv_cert_fields(obj, &cert, &info)) != KW_OK)
		return rv;
	if ((info & KW_PIV_CERTINFO_GZIP) != 0)
		rv = piv_gunzip(cert, der);
	else
		rv = kw_buf_put_view(der, cert);
	if (rv == KW_OK)
		rv = piv_check_der(kw_buf_view(der));
	if (rv != KW_OK)
		kw_buf_reset(der);
	return rv;
}

kw_rv
kw_piv_read_cert(kw_piv *p, uint8_t slot, kw_buf *der)
{
	uint32_t tag = kw_piv_slot_cert_tag(slot);
	kw_buf obj;
	kw_rv rv;

	if (der != NULL)
		kw_buf_reset(der);
	if (tag == 0 || der == NULL)
		return KW_ERR_ARG;
	kw_buf_init(&obj, KW_MAX_RESPONSE);
	if ((rv = kw_piv_get_data(p, tag, &obj)) != KW_OK)
		goto fail;
	/* An empty object is an absent certificate. */
	if (obj.len == 0) {
		rv = KW_ERR_NOT_FOUND;
		goto fail;
	}
	if ((rv = kw_piv_cert_parse(kw_buf_view(&obj), der)) != KW_OK)
		kw_debug("piv: certificate object of slot %02X: %s", slot, kw_strerror(rv));
fail:
	kw_buf_free(&obj);
	return rv;
}

/* Build 70 cert 71 info FE 00 (cert compressed if info says so). */
static kw_rv
piv_cert_build(kw_view der, bool compress, kw_buf *obj)
{
	kw_buf z;
	uint8_t info = compress ? KW_PIV_CERTINFO_GZIP : 0;
	kw_rv rv;

	kw_buf_init(&z, KW_PIV_OBJ_MAX);
	kw_buf_reset(obj);
	if (compress && (rv = piv_gzip(der, &z)) != KW_OK)
		goto fail;
	if (compress)
		der = kw_buf_view(&z);
	if ((rv = kw_tlv_put(obj, 0x70, der.ptr, der.len)) != KW_OK ||
	    (rv = kw_tlv_put(obj, 0x71, &info, 1)) != KW_OK ||
	    (rv = kw_tlv_put(obj, 0xfe, NULL, 0)) != KW_OK)
		goto fail;
fail:
	kw_buf_free(&z);
	return rv;
}

kw_rv
kw_piv_write_cert(kw_piv *p, uint8_t slot, const uint8_t *der, size_t len)
{
	uint32_t tag = kw_piv_slot_cert_tag(slot);
	kw_view v = kw_view_make(der, len);
	kw_buf obj;
	kw_rv rv;

	if (tag == 0 || der == NULL || len == 0 || len > KW_PIV_CERT_MAX)
		return KW_ERR_ARG;
	if (piv_check_der(v) != KW_OK)
		return KW_ERR_ARG;
	kw_buf_init(&obj, KW_PIV_OBJ_MAX);
	if ((rv = piv_cert_build(v, false, &obj)) != KW_OK)
		goto fail;
	if (obj.len > KW_PIV_CERT_OBJ_PLAIN_MAX &&
	    (rv = piv_cert_build(v, true, &obj)) != KW_OK)
		goto fail;
	rv = kw_piv_put_data(p, tag, obj.data, obj.len);
fail:
	kw_buf_free(&obj);
	return rv;
}

kw_rv
kw_piv_delete_cert(kw_piv *p, uint8_t slot)
{
	uint32_t tag = kw_piv_slot_cert_tag(slot);

	if (tag == 0)
		return KW_ERR_ARG;
	return kw_piv_put_data(p, tag, NULL, 0);
}

/* One short GET DATA of the certificate object (Le 00), without GET
 * RESPONSE: the card's first chunk and status word as sent. */
kw_rv
kw_piv_cert_probe(kw_piv *p, uint8_t slot, kw_buf *probe)
{
	uint32_t tag = kw_piv_slot_cert_tag(slot);
	uint8_t cmd[11] = { 0x00, KW_PIV_INS_GET_DATA, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0, 0, 0, 0x00 };
	uint8_t resp[258];
	size_t rlen = sizeof(resp);
	kw_transport *t;
	kw_rv rv;

	if (p == NULL || probe == NULL || tag == 0)
		return KW_ERR_ARG;
	kw_buf_reset(probe);
	t = kw_piv_transport(p);
	cmd[7] = (uint8_t)(tag >> 16);
	cmd[8] = (uint8_t)(tag >> 8);
	cmd[9] = (uint8_t)tag;
	if ((rv = kw_apdu_cla_for_channel(0x00, kw_transport_channel(t), &cmd[0])) != KW_OK ||
	    (rv = kw_transport_transmit(t, cmd, sizeof(cmd), resp, &rlen)) != KW_OK)
		return rv;
	if (rlen < 2)
		return KW_ERR_PROTOCOL;
	if (resp[rlen - 2] == 0x6A && (resp[rlen - 1] == 0x82 || resp[rlen - 1] == 0x88))
		return KW_ERR_NOT_FOUND;
	if (resp[rlen - 2] != 0x61 && !(resp[rlen - 2] == 0x90 && resp[rlen - 1] == 0x00))
		return kw_sw_to_rv((uint16_t)(resp[rlen - 2] << 8 | resp[rlen - 1]));
	return kw_buf_put(probe, resp, rlen);
}

/* The first 256 bytes of 53 L <contents> and 61xx, or all of it and 9000. */
kw_rv
kw_piv_cert_probe_expect(kw_view contents, kw_buf *probe)
{
	kw_buf raw;
	size_t rest;
	kw_rv rv;

	kw_buf_reset(probe);
	kw_buf_init(&raw, KW_BUF_DEFAULT_MAX);
	if ((rv = kw_tlv_put(&raw, 0x53, contents.ptr, contents.len)) != KW_OK)
		goto out;
	rest = raw.len > 256 ? raw.len - 256 : 0;
	if ((rv = kw_buf_put(probe, raw.data, raw.len - rest)) != KW_OK)
		goto out;
	rv = kw_buf_put_u16be(probe, rest == 0 ? 0x9000 :
	    (uint16_t)(0x6100 | (rest > 255 ? 0 : rest)));
out:
	if (rv != KW_OK)
		kw_buf_reset(probe);
	kw_buf_free(&raw);
	return rv;
}
