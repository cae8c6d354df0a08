/* libkwkms key delivery: ephemeral key, request, unwrap, check.
 *
 * What is in clear where (see docs/kms-api.md, "Threat model"):
 *  - KMS front: never; the escrow key is unwrapped only inside the HSM and
 *    re-wrapped there under a session AES key, itself wrapped with OAEP to
 *    our ephemeral public key.
 *  - here: the AES transport key and the PKCS#8 private key, each only in
 *    a kw_secret (mlocked, wiped on free); the ephemeral RSA key lives in
 *    OpenSSL (freed, which clears its private components) for this call. */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kw_tlv.h"
#include "kwkms.h"
#include "kwkms_int.h"

static kw_rv
b64_decode(const char *s, kw_buf *out)
{
	size_t n = strlen(s), pad = 0;
	int len;
	kw_rv rv;

	kw_buf_reset(out);
	if (n == 0 || n % 4 != 0 || n > (1u << 22))
		return KW_ERR_FORMAT;
	pad = (s[n - 1] == '=') + (s[n - 2] == '=');
	if ((rv = kw_buf_reserve(out, n / 4 * 3)) != KW_OK)
		return rv;
	if ((len = EVP_DecodeBlock(out->data, (const unsigned char *)s, (int)n)) < 0 ||
	    (size_t)len < pad)
		return KW_ERR_FORMAT;
	out->len = (size_t)len - pad;
	return KW_OK;
}

static kw_rv
oaep_decrypt(EVP_PKEY *eph, kw_view in, kw_secret *out)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(eph, NULL);
	uint8_t tmp[512];
	size_t len = sizeof(tmp);
	kw_rv rv = KW_ERR_CRYPTO;

	if (c != NULL && EVP_PKEY_decrypt_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha1()) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha1()) == 1 &&
	    EVP_PKEY_decrypt(c, tmp, &len, in.ptr, in.len) == 1 && len == 32)
		rv = kw_secret_set(out, tmp, len);
	kw_memzero(tmp, sizeof(tmp));
	EVP_PKEY_CTX_free(c);
	return rv;
}

static kw_rv
kwp_unwrap(const kw_secret *kek, kw_view in, kw_secret *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	kw_secret tmp = { 0 };
	int n1 = 0, n2 = 0;
	kw_rv rv = KW_ERR_CRYPTO;

	if (c == NULL || in.len < 16 || in.len > (1u << 16) ||
	    kw_secret_alloc(&tmp, in.len) != KW_OK)
		goto fail;
	EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_DecryptInit_ex(c, EVP_aes_256_wrap_pad(), NULL, kek->ptr, NULL) != 1 ||
	    EVP_DecryptUpdate(c, tmp.ptr, &n1, in.ptr, (int)in.len) != 1 ||
	    EVP_DecryptFinal_ex(c, tmp.ptr + n1, &n2) != 1 || n1 + n2 <= 0)
		goto fail;
	rv = kw_secret_set(out, tmp.ptr, (size_t)(n1 + n2));
fail:
	kw_secret_free(&tmp);
	EVP_CIPHER_CTX_free(c);
	return rv;
}

/* SoftHSMv2 2.6's CKM_AES_KEY_WRAP_PAD writes the padded length, not the
 * key's length, into the RFC 5649 message length indicator, so unwrapping
 * leaves up to 7 zero bytes after the key. Trim them only when the DER
 * SEQUENCE ends exactly there and the tail is all zeros. */
static kw_rv
trim_der_padding(kw_secret *k)
{
	kw_view v = kw_view_make(k->ptr, k->len);
	uint32_t tag;
	kw_view val;
	size_t der_len, pad, i;

	if (kw_tlv_get(&v, &tag, &val) != KW_OK || tag != 0x30)
		return KW_ERR_FORMAT;
	der_len = k->len - v.len;
	pad = v.len;
	if (pad == 0)
		return KW_OK;
	if (pad >= 8)
		return KW_ERR_TRAILING;
	for (i = der_len; i < k->len; i++)
		if (k->ptr[i] != 0)
			return KW_ERR_TRAILING;
	kw_memzero(k->ptr + der_len, pad);
	k->len = der_len;
	return KW_OK;
}

kw_rv
kwkms_unwrap_key(EVP_PKEY *eph, const char *etk_b64, const char *wk_b64,
    kw_secret *pkcs8)
{
	kw_buf etk, wk;
	kw_secret tk = { 0 };
	kw_rv rv;

	kw_buf_init(&etk, 4096);
	kw_buf_init(&wk, 1 << 16);
	if ((rv = b64_decode(etk_b64, &etk)) == KW_OK &&
	    (rv = b64_decode(wk_b64, &wk)) == KW_OK &&
	    (rv = oaep_decrypt(eph, kw_buf_view(&etk), &tk)) == KW_OK)
		rv = kwp_unwrap(&tk, kw_buf_view(&wk), pkcs8);
	if (rv == KW_OK && (rv = trim_der_padding(pkcs8)) != KW_OK)
		kw_secret_free(pkcs8);
	kw_secret_free(&tk);
	kw_buf_free(&etk);
	kw_buf_free(&wk);
	return rv;
}

kw_rv
kwkms_key_matches(const kw_secret *pkcs8, const char *cert_pem)
{
	const unsigned char *p = pkcs8->ptr;
	BIO *b = BIO_new_mem_buf(cert_pem, -1);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pk = d2i_AutoPrivateKey(NULL, &p, (long)pkcs8->len);
	kw_rv rv = KW_ERR_CRYPTO;

	if (x != NULL && pk != NULL && p == pkcs8->ptr + pkcs8->len &&
	    X509_check_private_key(x, pk) == 1)
		rv = KW_OK;
	EVP_PKEY_free(pk);
	X509_free(x);
	BIO_free(b);
	return rv;
}

static char *
spki_b64(EVP_PKEY *eph)
{
	unsigned char *der = NULL;
	char *out = NULL;
	int n = i2d_PUBKEY(eph, &der);

	if (n > 0 && (out = malloc(4 * (((size_t)n + 2) / 3) + 1)) != NULL)
		EVP_EncodeBlock((unsigned char *)out, der, n);
	OPENSSL_free(der);
	return out;
}

static kw_rv
take_key(EVP_PKEY *eph, json_t *jk, kwkms_key *key)
{
	const char *id = json_string_value(json_object_get(jk, "key_id"));
	const char *alg = json_string_value(json_object_get(jk, "alg"));
	const char *cert = json_string_value(json_object_get(jk, "cert"));
	const char *etk = json_string_value(json_object_get(jk, "encrypted_transport_key"));
	const char *wk = json_string_value(json_object_get(jk, "wrapped_key"));
	kw_rv rv;

	if (id == NULL || alg == NULL || cert == NULL || etk == NULL || wk == NULL ||
	    strlen(id) >= sizeof(key->key_id) || strlen(alg) >= sizeof(key->alg))
		return KW_ERR_PROTOCOL;
	snprintf(key->key_id, sizeof(key->key_id), "%s", id);
	snprintf(key->alg, sizeof(key->alg), "%s", alg);
	key->seq = (long)json_integer_value(json_object_get(jk, "seq"));
	key->current = json_is_true(json_object_get(jk, "current"));
	if ((key->cert_pem = strdup(cert)) == NULL)
		return KW_ERR_NOMEM;
	if ((rv = kwkms_unwrap_key(eph, etk, wk, &key->pkcs8)) != KW_OK)
		return rv;
	return kwkms_key_matches(&key->pkcs8, key->cert_pem);
}

kw_rv
kwkms_fetch_keys(kwkms *k, const char *password, kwkms_key **keys, size_t *n)
{
	EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	char *spki = eph != NULL ? spki_b64(eph) : NULL;
	json_t *req, *resp = NULL, *arr;
	size_t i, count;
	kw_rv rv = KW_ERR_CRYPTO;

	*keys = NULL;
	*n = 0;
	if (spki == NULL)
		goto fail;
	req = json_pack("{s:s,s:s*}", "ephemeral_key", spki, "password", password);
	if (req == NULL) {
		rv = KW_ERR_NOMEM;
		goto fail;
	}
	rv = kwkms_call(k, "POST", "/v1/keys/delivery", req, &resp, NULL);
	json_decref(req);
	if (rv != KW_OK)
		goto fail;
	arr = json_object_get(resp, "keys");
	if (!json_is_array(arr) || (count = json_array_size(arr)) == 0 || count > 64) {
		rv = KW_ERR_PROTOCOL;
		goto fail;
	}
	if ((*keys = calloc(count, sizeof(**keys))) == NULL) {
		rv = KW_ERR_NOMEM;
		goto fail;
	}
	*n = count;
	for (i = 0; i < count && rv == KW_OK; i++)
		rv = take_key(eph, json_array_get(arr, i), &(*keys)[i]);
	if (rv != KW_OK) {
		kwkms_keys_free(keys, *n);
		*n = 0;
	}
fail:
	json_decref(resp);
	free(spki);
	EVP_PKEY_free(eph);
	return rv;
}

void
kwkms_keys_free(kwkms_key **keys, size_t n)
{
	size_t i;

	if (*keys == NULL)
		return;
	for (i = 0; i < n; i++) {
		kw_secret_free(&(*keys)[i].pkcs8);
		free((*keys)[i].cert_pem);
	}
	free(*keys);
	*keys = NULL;
}
