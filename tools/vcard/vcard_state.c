/* Persistent token state: one binary file, "KWVCARD1" then TLVs (serial,
 * version, PIN, PUK, management key, keys, objects) and a SHA-256 digest
 * record that must come last (a cut file is refused). It holds private
 * keys, PIN, PUK and management key in clear: it is a TEST token. Files are
 * created mode 0600 and replaced atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory): never half-written. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "vcard.h"
#include "kw_secret.h"
#include "kw_tlv.h"

static const char magic[8] = "KWVCARD1";

#define ST_SERIAL  0x81
#define ST_VERSION 0x82
#define ST_PIN     0x83
#define ST_PUK     0x84
#define ST_MGMT    0x85
#define ST_KEY     0xA1
#define ST_OBJECT  0xA2
#define ST_DIGEST  0x8F   /* last: SHA-256 of everything before it */
#define STATE_MAX  (16u << 20)

static kw_rv
put_pin(kw_buf *out, uint32_t tag, const vc_pin *p)
{
	uint8_t tmp[2 + VC_PIN_MAXLEN];
	kw_rv rv;

	tmp[0] = p->tries;
	tmp[1] = p->max;
	memcpy(tmp + 2, p->value, VC_PIN_MAXLEN);
	rv = kw_tlv_put(out, tag, tmp, sizeof(tmp));
	kw_memzero(tmp, sizeof(tmp));
	return rv;
}

static kw_rv
put_key(kw_buf *out, const vc_key *k)
{
	unsigned char *der = NULL;
	kw_buf in;
	int n;
	kw_rv rv = KW_ERR_CRYPTO;

	kw_buf_init(&in, STATE_MAX);
	if ((n = i2d_PrivateKey(k->pkey, &der)) <= 0)
		goto fail;
	if ((rv = kw_tlv_put(&in, 0x80, &k->slot, 1)) != KW_OK ||
	    (rv = kw_tlv_put(&in, 0x81, &k->alg, 1)) != KW_OK ||
	    (rv = kw_tlv_put(&in, 0x82, &k->pin_policy, 1)) != KW_OK ||
	    (rv = kw_tlv_put(&in, 0x83, &k->touch_policy, 1)) != KW_OK ||
	    (rv = kw_tlv_put(&in, 0x84, &k->origin, 1)) != KW_OK ||
	    (rv = kw_tlv_put(&in, 0x85, der, (size_t)n)) != KW_OK)
		goto fail;
	rv = kw_tlv_put(out, ST_KEY, in.data, in.len);
fail:
	if (der != NULL)
		kw_freezero(der, (size_t)n);
	kw_buf_free(&in);
	return rv;
}

static kw_rv
put_object(kw_buf *out, const vc_object *o)
{
	kw_buf in;
	kw_rv rv;

	kw_buf_init(&in, STATE_MAX);
	if ((rv = kw_tlv_put_header(&in, 0x80, 4)) == KW_OK &&
	    (rv = kw_buf_put_u32be(&in, o->tag)) == KW_OK &&
	    (rv = kw_tlv_put(&in, 0x81, o->data.data, o->data.len)) == KW_OK)
		rv = kw_tlv_put(out, ST_OBJECT, in.data, in.len);
	kw_buf_free(&in);
	return rv;
}

kw_rv
vcard_state_encode(const vcard_card *c, kw_buf *out)
{
	uint8_t ser[4] = { c->serial >> 24, c->serial >> 16, c->serial >> 8, c->serial };
	uint8_t mg[2 + VC_MGMT_MAXLEN], digest[SHA256_DIGEST_LENGTH];
	size_t i;
	kw_rv rv;

	mg[0] = c->mgmt_alg;
	mg[1] = c->mgmt_touch;
	memcpy(mg + 2, c->mgmt_key, c->mgmt_len);
	if ((rv = kw_buf_put(out, magic, sizeof(magic))) != KW_OK ||
	    (rv = kw_tlv_put(out, ST_SERIAL, ser, 4)) != KW_OK ||
	    (rv = kw_tlv_put(out, ST_VERSION, c->version, 3)) != KW_OK ||
	    (rv = put_pin(out, ST_PIN, &c->pin)) != KW_OK ||
	    (rv = put_pin(out, ST_PUK, &c->puk)) != KW_OK ||
	    (rv = kw_tlv_put(out, ST_MGMT, mg, 2 + c->mgmt_len)) != KW_OK)
		goto fail;
	for (i = 0; i < VC_NSLOTS; i++)
		if (c->keys[i].pkey != NULL && (rv = put_key(out, &c->keys[i])) != KW_OK)
			goto fail;
	for (i = 0; i < VC_MAX_OBJECTS; i++)
		if (c->objects[i].tag != 0 && (rv = put_object(out, &c->objects[i])) != KW_OK)
			goto fail;
	SHA256(out->data, out->len, digest);
	rv = kw_tlv_put(out, ST_DIGEST, digest, sizeof(digest));
fail:
	kw_memzero(mg, sizeof(mg));
	return rv;
}

static kw_rv
get_pin(kw_view v, vc_pin *p)
{
	if (v.len != 2 + VC_PIN_MAXLEN || v.ptr[0] > v.ptr[1] || v.ptr[1] == 0)
		return KW_ERR_FORMAT;
	p->tries = v.ptr[0];
	p->max = v.ptr[1];
	memcpy(p->value, v.ptr + 2, VC_PIN_MAXLEN);
	return KW_OK;
}

static kw_rv
get_u8(kw_view *v, uint32_t tag, uint8_t *out)
{
	kw_view val;
	kw_rv rv;

	if ((rv = kw_tlv_expect(v, tag, &val)) != KW_OK)
		return rv;
	if (val.len != 1)
		return KW_ERR_FORMAT;
	*out = val.ptr[0];
	return KW_OK;
}

static kw_rv
get_key(vcard_card *c, kw_view v)
{
	uint8_t slot, alg, pin, touch, origin;
	const unsigned char *p;
	kw_view der;
	EVP_PKEY *pkey;
	vc_key *k;
	kw_rv rv;

	if ((rv = get_u8(&v, 0x80, &slot)) != KW_OK || (rv = get_u8(&v, 0x81, &alg)) != KW_OK ||
	    (rv = get_u8(&v, 0x82, &pin)) != KW_OK || (rv = get_u8(&v, 0x83, &touch)) != KW_OK ||
	    (rv = get_u8(&v, 0x84, &origin)) != KW_OK ||
	    (rv = kw_tlv_expect(&v, 0x85, &der)) != KW_OK || (rv = kw_view_expect_end(&v)) != KW_OK)
		return rv;
	if ((k = vc_key_slot(c, slot)) == NULL || !vc_alg_is_key(alg))
		return KW_ERR_FORMAT;
	p = der.ptr;
	if ((pkey = d2i_AutoPrivateKey(NULL, &p, (long)der.len)) == NULL)
		return KW_ERR_FORMAT;
	vc_key_clear(k);
	k->pkey = pkey;
	k->alg = alg;
	k->pin_policy = pin;
	k->touch_policy = touch;
	k->origin = origin;
	return KW_OK;
}

static kw_rv
get_object(vcard_card *c, kw_view v)
{
	kw_view t, data;
	uint32_t tag;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&v, 0x80, &t)) != KW_OK || (rv = kw_view_get_u32be(&t, &tag)) != KW_OK ||
	    (rv = kw_view_expect_end(&t)) != KW_OK ||
	    (rv = kw_tlv_expect(&v, 0x81, &data)) != KW_OK || (rv = kw_view_expect_end(&v)) != KW_OK)
		return rv;
	return vc_obj_set(c, tag, data.ptr, data.len);
}

static kw_rv
get_mgmt(vcard_card *c, kw_view v)
{
	static const uint8_t algs[] = { VC_ALG_3DES, VC_ALG_AES128, VC_ALG_AES192, VC_ALG_AES256 };
	static const size_t lens[] = { 24, 16, 24, 32 };
	size_t i;

	if (v.len < 2)
		return KW_ERR_FORMAT;
	for (i = 0; i < sizeof(algs); i++)
		if (v.ptr[0] == algs[i] && v.len - 2 == lens[i])
			break;
	if (i == sizeof(algs))
		return KW_ERR_FORMAT;
	c->mgmt_alg = v.ptr[0];
	c->mgmt_touch = v.ptr[1];
	kw_memzero(c->mgmt_key, sizeof(c->mgmt_key));
	memcpy(c->mgmt_key, v.ptr + 2, v.len - 2);
	c->mgmt_len = v.len - 2;
	return KW_OK;
}

static kw_rv
decode_one(vcard_card *c, uint32_t tag, kw_view val)
{
	switch (tag) {
	case ST_SERIAL: {
		kw_view t = val;
		kw_rv rv = kw_view_get_u32be(&t, &c->serial);
		return rv != KW_OK ? rv : kw_view_expect_end(&t);
	}
	case ST_VERSION:
		if (val.len != 3)
			return KW_ERR_FORMAT;
		memcpy(c->version, val.ptr, 3);
		return KW_OK;
	case ST_PIN: return get_pin(val, &c->pin);
	case ST_PUK: return get_pin(val, &c->puk);
	case ST_MGMT: return get_mgmt(c, val);
	case ST_KEY: return get_key(c, val);
	case ST_OBJECT: return get_object(c, val);
	default: return KW_ERR_FORMAT;
	}
}

/* The file must end with the digest record over all bytes before it. */
static kw_rv
check_digest(kw_view in)
{
	static const size_t rec = 2 + SHA256_DIGEST_LENGTH;
	uint8_t digest[SHA256_DIGEST_LENGTH];

	if (in.len < sizeof(magic) + rec)
		return KW_ERR_TRUNCATED;
	if (in.ptr[in.len - rec] != ST_DIGEST || in.ptr[in.len - rec + 1] != SHA256_DIGEST_LENGTH)
		return KW_ERR_FORMAT;
	SHA256(in.ptr, in.len - rec, digest);
	return memcmp(digest, in.ptr + in.len - SHA256_DIGEST_LENGTH, sizeof(digest)) == 0 ?
	    KW_OK : KW_ERR_FORMAT;
}

kw_rv
vcard_state_decode(vcard_card *c, kw_view in)
{
	uint8_t m[sizeof(magic)];
	uint32_t tag;
	kw_view val;
	kw_rv rv;

	if ((rv = check_digest(in)) != KW_OK)
		return rv;
	in.len -= 2 + SHA256_DIGEST_LENGTH;
	if ((rv = kw_view_get_bytes(&in, m, sizeof(m))) != KW_OK)
		return rv;
	if (memcmp(m, magic, sizeof(m)) != 0)
		return KW_ERR_FORMAT;
	while (!kw_view_empty(&in)) {
		if ((rv = kw_tlv_get(&in, &tag, &val)) != KW_OK)
			return rv;
		if ((rv = decode_one(c, tag, val)) != KW_OK)
			return rv;
	}
	return KW_OK;
}

static kw_rv
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return KW_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return KW_OK;
}

static void
fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (copy == NULL)
		return;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

kw_rv
vcard_state_save(const vcard_card *c, const char *path)
{
	kw_buf b;
	char *tmp = NULL;
	int fd = -1;
	kw_rv rv;

	kw_buf_init(&b, STATE_MAX);
	if ((rv = vcard_state_encode(c, &b)) != KW_OK)
		goto fail;
	rv = KW_ERR_IO;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		tmp = NULL;
		goto fail;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)   /* mode 0600 */
		goto fail;
	if (write_all(fd, b.data, b.len) != KW_OK || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	fsync_dir(path);
	rv = KW_OK;
fail:
	if (fd >= 0)
		close(fd);
	if (rv != KW_OK && tmp != NULL)
		(void)unlink(tmp);
	free(tmp);
	kw_buf_free(&b);
	return rv;
}

kw_rv
vcard_state_load(vcard_card *c, const char *path)
{
	kw_buf b;
	uint8_t chunk[4096];
	ssize_t n;
	int fd;
	kw_rv rv = KW_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? KW_ERR_NOT_FOUND : KW_ERR_IO;
	kw_buf_init(&b, STATE_MAX);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = KW_ERR_IO;
			break;
		}
		if (n == 0)
			break;
		if ((rv = kw_buf_put(&b, chunk, (size_t)n)) != KW_OK)
			break;
	}
	close(fd);
	if (rv == KW_OK)
		rv = vcard_state_decode(c, kw_buf_view(&b));
	kw_memzero(chunk, sizeof(chunk));
	kw_buf_free(&b);
	return rv;
}
