/* Small PKCS#11 client helpers for the interop test programs and the
 * benchmark: load a module, find keys by CKA_ID, sign/decrypt on the token,
 * verify/encrypt with OpenSSL. */
#include "p11_util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

int
kwi_p11_load(struct kwi_p11 *p, const char *path)
{
	CK_C_GetFunctionList get;

	memset(p, 0, sizeof(*p));
	p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (p->dl == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	*(void **)&get = dlsym(p->dl, "C_GetFunctionList");
	if (get == NULL || get(&p->f) != CKR_OK || p->f == NULL) {
		fprintf(stderr, "%s: no usable C_GetFunctionList\n", path);
		dlclose(p->dl);
		p->dl = NULL;
		return -1;
	}
	return 0;
}

CK_RV
kwi_p11_init(struct kwi_p11 *p)
{
	CK_C_INITIALIZE_ARGS args;
	CK_SLOT_ID slots[32];
	CK_ULONG n = 32;
	CK_RV rv;

	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv != CKR_OK)
		return rv;
	p->initialized = 1;
	rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK)
		return rv;
	if (n == 0)
		return CKR_TOKEN_NOT_PRESENT;
	p->slot = slots[0];
	return CKR_OK;
}

void
kwi_p11_unload(struct kwi_p11 *p)
{
	if (p->initialized)
		p->f->C_Finalize(NULL);
	if (p->dl != NULL)
		dlclose(p->dl);
	memset(p, 0, sizeof(*p));
}

CK_RV
kwi_p11_open(struct kwi_p11 *p, CK_SESSION_HANDLE *s)
{
	return p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, s);
}

CK_RV
kwi_p11_login(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_USER_TYPE who,
    const char *pin)
{
	CK_RV rv;

	rv = p->f->C_Login(s, who, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv == CKR_USER_ALREADY_LOGGED_IN && who == CKU_USER)
		rv = CKR_OK;
	return rv;
}

CK_RV
kwi_p11_find(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const struct kwi_key *k, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)k->id, k->id_len },
	};
	CK_ULONG n = 0;
	CK_RV rv, rv2;

	rv = p->f->C_FindObjectsInit(s, tmpl, 2);
	if (rv != CKR_OK)
		return rv;
	rv = p->f->C_FindObjects(s, out, 1, &n);
	rv2 = p->f->C_FindObjectsFinal(s);
	if (rv == CKR_OK)
		rv = rv2;
	if (rv == CKR_OK && n != 1)
		rv = CKR_KEY_HANDLE_INVALID;
	return rv;
}

CK_RV
kwi_p11_attr(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, unsigned char **val, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = p->f->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 1u << 20)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	a.pValue = malloc(a.ulValueLen + 1);
	if (a.pValue == NULL)
		return CKR_HOST_MEMORY;
	rv = p->f->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

int
kwi_key_set_id(struct kwi_key *k, const char *hex)
{
	size_t n = strlen(hex), i;
	unsigned int b;

	if (n == 0 || n % 2 != 0 || n / 2 > sizeof(k->id))
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		k->id[i] = (unsigned char)b;
	}
	k->id_len = n / 2;
	return 0;
}

void
kwi_key_clear(struct kwi_key *k)
{
	EVP_PKEY_free(k->pub);
	k->pub = NULL;
}

CK_RV
kwi_p11_key_load(struct kwi_p11 *p, CK_SESSION_HANDLE s, struct kwi_key *k)
{
	CK_OBJECT_HANDLE cert, priv;
	unsigned char *der = NULL, *aa = NULL;
	const unsigned char *cur;
	size_t der_len, aa_len;
	X509 *x = NULL;
	CK_RV rv;

	rv = kwi_p11_find(p, s, CKO_CERTIFICATE, k, &cert);
	if (rv != CKR_OK)
		goto fail;
	rv = kwi_p11_attr(p, s, cert, CKA_VALUE, &der, &der_len);
	if (rv != CKR_OK)
		goto fail;
	cur = der;
	x = d2i_X509(NULL, &cur, (long)der_len);
	rv = CKR_GENERAL_ERROR;
	if (x == NULL || (k->pub = X509_get_pubkey(x)) == NULL)
		goto fail;
	k->is_ec = EVP_PKEY_base_id(k->pub) == EVP_PKEY_EC;
	rv = kwi_p11_find(p, s, CKO_PRIVATE_KEY, k, &priv);
	if (rv != CKR_OK)
		goto fail;
	/* Absent attribute = not always-authenticate. */
	if (kwi_p11_attr(p, s, priv, CKA_ALWAYS_AUTHENTICATE, &aa, &aa_len) == CKR_OK &&
	    aa_len == sizeof(CK_BBOOL))
		k->always_auth = aa[0] == CK_TRUE;
	rv = CKR_OK;
fail:
	X509_free(x);
	free(der);
	free(aa);
	return rv;
}

static CK_RV
kwi_p11_context_login(struct kwi_p11 *p, CK_SESSION_HANDLE s,
    const struct kwi_key *k, const char *pin)
{
	if (!k->always_auth)
		return CKR_OK;
	return p->f->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin,
	    strlen(pin));
}

CK_RV
kwi_p11_sign(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
    const struct kwi_key *k, const char *pin, const unsigned char *msg,
    size_t msg_len, unsigned char *sig, size_t *sig_len)
{
	CK_MECHANISM mech = { k->is_ec ? CKM_ECDSA : CKM_SHA256_RSA_PKCS, NULL, 0 };
	unsigned char digest[SHA256_DIGEST_LENGTH];
	const unsigned char *in = msg;
	CK_ULONG in_len = msg_len, out_len = 512;
	CK_RV rv;

	if (k->is_ec) {
		SHA256(msg, msg_len, digest);
		in = digest;
		in_len = sizeof(digest);
	}
	rv = p->f->C_SignInit(s, &mech, key);
	if (rv != CKR_OK)
		return rv;
	rv = kwi_p11_context_login(p, s, k, pin);
	if (rv != CKR_OK)
		return rv;
	rv = p->f->C_Sign(s, (CK_BYTE_PTR)in, in_len, sig, &out_len);
	*sig_len = out_len;
	return rv;
}

CK_RV
kwi_p11_decrypt(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
    const struct kwi_key *k, const char *pin, const unsigned char *in,
    size_t in_len, unsigned char *out, size_t *out_len)
{
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	CK_ULONG n = 512;
	CK_RV rv;

	rv = p->f->C_DecryptInit(s, &mech, key);
	if (rv != CKR_OK)
		return rv;
	rv = kwi_p11_context_login(p, s, k, pin);
	if (rv != CKR_OK)
		return rv;
	rv = p->f->C_Decrypt(s, (CK_BYTE_PTR)in, in_len, out, &n);
	*out_len = n;
	return rv;
}

/* PKCS#11 ECDSA signatures are r || s; OpenSSL verifies DER. */
static int
kwi_ecdsa_to_der(const unsigned char *sig, size_t sig_len, unsigned char **der,
    int *der_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r, *s;
	int ok = 0;

	*der = NULL;
	if (es == NULL || sig_len == 0 || sig_len % 2 != 0)
		goto fail;
	r = BN_bin2bn(sig, (int)(sig_len / 2), NULL);
	s = BN_bin2bn(sig + sig_len / 2, (int)(sig_len / 2), NULL);
	if (r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		goto fail;
	}
	*der_len = i2d_ECDSA_SIG(es, der);
	ok = *der_len > 0;
fail:
	ECDSA_SIG_free(es);
	return ok;
}

int
kwi_verify(const struct kwi_key *k, const unsigned char *msg, size_t msg_len,
    const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int der_len = 0, ok = 0;

	if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pub) != 1)
		goto fail;
	if (k->is_ec) {
		if (!kwi_ecdsa_to_der(sig, sig_len, &der, &der_len))
			goto fail;
		ok = EVP_DigestVerify(ctx, der, (size_t)der_len, msg, msg_len) == 1;
	} else {
		ok = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
	}
fail:
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	return ok;
}

int
kwi_encrypt(const struct kwi_key *k, const unsigned char *in, size_t in_len,
    unsigned char *out, size_t *out_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pub, NULL);
	size_t n = 512;
	int rc = -1;

	if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ctx, out, &n, in, in_len) != 1)
		goto fail;
	*out_len = n;
	rc = 0;
fail:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

double
kwi_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
