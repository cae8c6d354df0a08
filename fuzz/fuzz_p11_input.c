/* Fuzz target: what the PKCS#11 module takes from other sources than card
 * answers' TLV objects, each parser called directly (cheaper and deeper
 * than through C_* sequences, which fuzz_p11 covers):
 *
 *   0  RSA unpadding of the block the card returned (p11_decrypt.c:
 *      kwp11_rsa_unpad) for CKM_RSA_X_509, CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP
 *   1  a certificate cache file (p11_cache.c: kwp11_cache_check)
 *   2  a C_CreateObject private-key template (p11_create.c)
 *
 * (ECDH peer points, raw, DER-wrapped, changed or input bytes, reach
 * p11_derive.c through C_DeriveKey in fuzz_p11.)
 *
 * Input: a selector byte (low 2 bits: the parser above, 3 = 2; bit 2:
 * start from a valid value, changed by the input, instead of raw input
 * bytes), then that parser's bytes (see each function).
 *
 * Checks: nothing crashes or reads out of bounds; a plaintext fits what
 * its padding leaves of the block, and a valid padding made here comes
 * back as the same message; an accepted cache file yields
 * exactly its certificate bytes; a built key has the template's type. */
#define OPENSSL_API_COMPAT 0x10100000L
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "fuzz_util.h"
#include "p11_int.h"

static EVP_PKEY *ec_key, *rsa_key;
static uint8_t cert_der[1024];
static size_t cert_len;

static bool
self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *n;
	unsigned char *p = cert_der;
	int len;
	bool ok;

	ok = x != NULL && (n = X509_get_subject_name(x)) != NULL &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz",
	    -1, -1, 0) == 1 && X509_set_issuer_name(x, n) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
	    X509_set_pubkey(x, key) == 1 && X509_sign(x, key, EVP_sha256()) > 0 &&
	    (len = i2d_X509(x, NULL)) > 0 && (size_t)len <= sizeof(cert_der) &&
	    i2d_X509(x, &p) == len;
	if (ok)
		cert_len = (size_t)(p - cert_der);
	X509_free(x);
	return ok;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((ec_key = EVP_EC_gen("P-256")) == NULL || (rsa_key = EVP_RSA_gen(1024)) == NULL ||
	    !self_signed(ec_key))
		abort();
	return 0;
}

/* Flip input-chosen bits of buf: pairs of (2-byte position, xor byte).
 * Returns how many bytes changed. */
static unsigned
mutate(fz_in *in, uint8_t *buf, size_t len)
{
	unsigned i, changed = 0;
	uint8_t x;

	for (i = 0; i < 8 && in->n >= 3 && len > 0; i++) {
		uint16_t at = fz_u16(in);

		x = fz_u8(in);
		buf[at % len] ^= x;
		changed += x != 0;
	}
	return changed;
}

static const CK_MECHANISM_TYPE hashes[] = { CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512 };
static const CK_RSA_PKCS_MGF_TYPE mgfs[] = {
	CKG_MGF1_SHA1, CKG_MGF1_SHA256, CKG_MGF1_SHA384, CKG_MGF1_SHA512,
};

/* mech byte, hash/mgf byte, size byte (k = 64..512), label chunk8,
 * message chunk8 (valid mode) or block bytes, then mutations. */
static void
fuzz_unpad(fz_in *in, bool valid)
{
	static const CK_MECHANISM_TYPE mechs[] = { CKM_RSA_X_509, CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP };
	uint8_t blk[512];
	kwp11_op op;
	uint8_t mb = fz_u8(in), hb = fz_u8(in);
	size_t k = 64 + (size_t)(fz_u8(in) % 8) * 64, hlen;
	kw_view label = fz_chunk8(in), msg = kw_view_make(NULL, 0);
	CK_RV rv;
	int ok = 0;
	unsigned changed = 0;

	memset(&op, 0, sizeof(op));
	kw_buf_init(&op.label, 65536);
	kw_buf_init(&op.result, 65536);
	op.mech = mechs[mb % 3];
	op.md = kwp11_mech_md(hashes[hb % 4]);
	op.mgf_md = kwp11_mgf_md(mgfs[(hb >> 2) % 4]);
	hlen = (size_t)EVP_MD_get_size(op.md);
	(void)kw_buf_put_view(&op.label, label);
	memset(blk, 0, sizeof(blk));
	if (valid) {
		msg = fz_chunk8(in);
		if (op.mech == CKM_RSA_PKCS)
			ok = RSA_padding_add_PKCS1_type_2(blk, (int)k, msg.ptr, (int)msg.len);
		else if (op.mech == CKM_RSA_PKCS_OAEP)
			ok = RSA_padding_add_PKCS1_OAEP_mgf1(blk, (int)k, msg.ptr,
			    (int)msg.len, label.ptr, (int)label.len, op.md, op.mgf_md);
		if (!ok)
			goto out;
		changed = mutate(in, blk, k);
	} else {
		kw_view v = fz_bytes(in, k);

		if (v.len > 0)
			memcpy(blk + k - v.len, v.ptr, v.len);
	}
	rv = kwp11_rsa_unpad(&op, blk, k);
	if (rv == CKR_OK) {
		if (!op.have_result || op.result.len > k)
			abort();
		if (op.mech == CKM_RSA_PKCS && op.result.len > k - 11)
			abort();
		if (op.mech == CKM_RSA_PKCS_OAEP && op.result.len + 2 * hlen + 2 > k)
			abort();
		if (valid && changed == 0 && op.mech != CKM_RSA_X_509 &&
		    (op.result.len != msg.len ||
		    (msg.len > 0 && memcmp(op.result.data, msg.ptr, msg.len) != 0)))
			abort();
	} else if (rv != CKR_ENCRYPTED_DATA_INVALID && rv != CKR_HOST_MEMORY) {
		abort();
	} else if (valid && changed == 0) {
		abort();   /* an unchanged valid padding was refused */
	}
out:
	kwp11_op_reset(&op);
	kw_buf_free(&op.label);
	kw_buf_free(&op.result);
}

/* The file (valid mode: KWC1, probe, this harness's certificate, then
 * mutations; else a chunk), the probe (chunk), the key byte. */
static void
fuzz_cache(fz_in *in, bool valid)
{
	static const uint8_t probe_ok[] = { 0x53, 0x82, 0x01, 0x00, 0x61, 0x20 };
	uint8_t fbuf[2048];
	kw_buf der, file;
	kw_view probe;
	EVP_PKEY *pub;
	uint8_t *copy;
	size_t flen;
	unsigned changed = 0;
	kw_rv rv;

	kw_buf_init(&der, 65536);
	kw_buf_init(&file, sizeof(fbuf));
	if (valid) {
		(void)kw_buf_put(&file, "KWC1", 4);
		(void)kw_buf_put_u16be(&file, sizeof(probe_ok));
		(void)kw_buf_put(&file, probe_ok, sizeof(probe_ok));
		(void)kw_buf_put(&file, cert_der, cert_len);
		probe = kw_view_make(probe_ok, sizeof(probe_ok));
		if ((fz_u8(in) & 1) != 0)
			probe = fz_chunk8(in);
		changed = mutate(in, file.data, file.len);
	} else {
		(void)kw_buf_put_view(&file, fz_chunk(in));
		probe = fz_chunk8(in);
	}
	pub = (fz_u8(in) & 1) ? rsa_key : ec_key;
	flen = file.len;
	if ((copy = malloc(flen > 0 ? flen : 1)) == NULL)
		goto out;
	if (flen > 0)
		memcpy(copy, file.data, flen);
	rv = kwp11_cache_check(kw_view_make(copy, flen), probe, pub, &der);
	if (rv == KW_OK) {
		/* the certificate is the file's tail, and its key is pub */
		if (der.len == 0 || der.len > flen ||
		    memcmp(der.data, copy + flen - der.len, der.len) != 0 || pub != ec_key)
			abort();
	} else if (der.len != 0) {
		abort();
	}
	if (valid && changed == 0 && probe.ptr == probe_ok && pub == ec_key && rv != KW_OK)
		abort();   /* the unchanged entry of the right key was refused */
	free(copy);
out:
	kw_buf_free(&der);
	kw_buf_free(&file);
}

/* Attributes: count byte, then per attribute a type byte (index into the
 * table) and a chunk8 value; valid mode: a real key's template (RSA or EC
 * by the first byte), then mutations of its values. */
static void
fuzz_template(fz_in *in, bool valid)
{
	static const CK_ATTRIBUTE_TYPE types[] = {
		CKA_CLASS, CKA_KEY_TYPE, CKA_ID, CKA_EC_PARAMS, CKA_VALUE, CKA_MODULUS,
		CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
		CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT, CKA_TOKEN, CKA_LABEL,
		CKA_SIGN,
	};
	static const char *rsa_names[8] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	static const uint8_t p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	uint8_t vals[16][256];
	CK_ATTRIBUTE t[16];
	CK_ULONG n = 0, i, kt = 0;
	EVP_PKEY *key = NULL;
	BIGNUM *bn = NULL;

	if (valid) {
		bool rsa = (fz_u8(in) & 1) != 0;

		kt = rsa ? CKK_RSA : CKK_EC;
		memcpy(vals[n], &kt, sizeof(kt));
		t[n] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, vals[n], sizeof(kt) };
		n++;
		if (!rsa) {
			memcpy(vals[n], p256, sizeof(p256));
			t[n] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, vals[n], sizeof(p256) };
			n++;
			if (EVP_PKEY_get_bn_param(ec_key, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1) {
				t[n] = (CK_ATTRIBUTE){ CKA_VALUE, vals[n],
				    (CK_ULONG)BN_bn2bin(bn, vals[n]) };
				n++;
			}
		} else {
			for (i = 0; i < 8; i++) {
				if (EVP_PKEY_get_bn_param(rsa_key, rsa_names[i], &bn) != 1)
					break;
				t[n] = (CK_ATTRIBUTE){ types[5 + i], vals[n],
				    BN_num_bytes(bn) <= 256 ? (CK_ULONG)BN_bn2bin(bn, vals[n]) : 0 };
				n++;
				BN_clear_free(bn);
				bn = NULL;
			}
		}
		for (i = 0; i < 6 && in->n >= 3; i++) {
			CK_ATTRIBUTE *a = &t[fz_u8(in) % n];

			if (a->ulValueLen > 0)
				((uint8_t *)a->pValue)[fz_u8(in) % a->ulValueLen] ^= fz_u8(in);
		}
	} else {
		CK_ULONG want = fz_u8(in) % 16;

		while (n < want && in->n > 0) {
			uint8_t ty = fz_u8(in);
			kw_view v = fz_chunk8(in);

			if (v.len > 0)
				memcpy(vals[n], v.ptr, v.len);
			/* bit 7: a NULL value pointer with the length */
			t[n] = (CK_ATTRIBUTE){ types[ty % 16], (ty & 0x80) ? NULL : vals[n], v.len };
			n++;
		}
	}
	BN_clear_free(bn);
	if (kwp11_create_build_key(t, n, &key) == CKR_OK) {
		CK_ULONG got;

		if (key == NULL || kwp11_tmpl_ulong(t, n, CKA_KEY_TYPE, &got) != CKR_OK ||
		    (got == CKK_RSA) != (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA))
			abort();
		(void)kw_piv_alg_of_pkey(key);
	} else if (key != NULL) {
		abort();
	}
	EVP_PKEY_free(key);
	kw_memzero(vals, sizeof(vals));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size);
	uint8_t sel = fz_u8(&in);
	bool valid = (sel & 4) != 0;

	switch (sel & 3) {
	case 0: fuzz_unpad(&in, valid); break;
	case 1: fuzz_cache(&in, valid); break;
	default: fuzz_template(&in, valid); break;
	}
	return 0;
}
