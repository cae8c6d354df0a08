/* Fuzz target: libkwkms (kms/client/), the enrollment client, reading
 * what a KMS answers.
 *
 * Input: a mode byte. Bit 0 clear: client calls, one per step byte
 * (validation start/finish, password, CSR signing with and without
 * attestation, revocation, directory, CA), each answered by the next
 * answer of the input: a 2-byte HTTP status (0xFFFF: the KMS is
 * unreachable) and a chunk body. Bit 0 set: one delivered key, unwrapped
 * with this harness's ephemeral key (kwkms_unwrap_key) and matched with
 * a certificate (kwkms_key_matches): from the input's strings, or (bit 1)
 * from a valid delivery made here for a real key, changed by the input.
 *
 * Checks: nothing crashes, leaks or reads out of bounds; a call that
 * succeeds returned the strings it promises; a valid delivery unwraps to
 * the key it wrapped and matches its certificate. */
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "fuzz_util.h"
#include "kwkms.h"
#include "kwkms_int.h"

static EVP_PKEY *eph, *user_key;
static char *user_cert_pem;
static uint8_t *user_pkcs8;
static size_t user_pkcs8_len;

static fz_in answers;

static kw_rv
answer(void *arg, const char *method, const char *path, const char *body, long *status,
    kw_buf *resp)
{
	uint16_t st;

	(void)arg;
	(void)method;
	(void)path;
	(void)body;
	st = fz_u16(&answers);
	if (st == 0xFFFF)
		return KW_ERR_NO_SERVICE;
	*status = st;
	return kw_buf_put_view(resp, fz_chunk(&answers));
}

static char *
cert_pem_of(EVP_PKEY *key)
{
	X509 *x = X509_new();
	BIO *b = BIO_new(BIO_s_mem());
	X509_NAME *n;
	char *out = NULL, *p;
	long len;

	if (x != NULL && b != NULL && (n = X509_get_subject_name(x)) != NULL &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz",
	    -1, -1, 0) == 1 && X509_set_issuer_name(x, n) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
	    X509_set_pubkey(x, key) == 1 && X509_sign(x, key, EVP_sha256()) > 0 &&
	    PEM_write_bio_X509(b, x) == 1 && (len = BIO_get_mem_data(b, &p)) > 0 &&
	    (out = malloc((size_t)len + 1)) != NULL) {
		memcpy(out, p, (size_t)len);
		out[len] = '\0';
	}
	X509_free(x);
	BIO_free(b);
	return out;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char *der = NULL;
	int n;

	(void)argc;
	(void)argv;
	/* RSA-1024 for the ephemeral key: the client makes RSA-2048 ones, the
	 * unwrapping code does not depend on the size. */
	if ((eph = EVP_RSA_gen(1024)) == NULL || (user_key = EVP_EC_gen("P-256")) == NULL ||
	    (user_cert_pem = cert_pem_of(user_key)) == NULL ||
	    (n = i2d_PrivateKey(user_key, &der)) <= 0)
		abort();
	/* PKCS#8 PrivateKeyInfo */
	{
		PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(user_key);
		unsigned char *q = NULL;
		int m = p8 != NULL ? i2d_PKCS8_PRIV_KEY_INFO(p8, &q) : -1;

		if (m <= 0)
			abort();
		user_pkcs8 = q;
		user_pkcs8_len = (size_t)m;
		PKCS8_PRIV_KEY_INFO_free(p8);
	}
	OPENSSL_free(der);
	kwkms_test_set_exchange(answer, NULL);
	return 0;
}

static void
check_str(kw_rv rv, const char *s)
{
	if ((rv == KW_OK) != (s != NULL))
		abort();
}

static void
calls(fz_in *in)
{
	static const char csr[] = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n"
	    "-----END CERTIFICATE REQUEST-----\n";
	const char *att[2] = { "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n" };
	kwkms *k = NULL;
	char *cert = NULL, *serial = NULL;
	bool attested;
	unsigned steps = 0;
	kw_rv rv;

	if (kwkms_new("https://kms.invalid", NULL, &k) != KW_OK)
		return;
	while (in->n > 0 && answers.n > 0 && steps++ < 16) {
		switch (fz_u8(in) % 8) {
		case 0: {
			long exp = -1;

			rv = kwkms_validation_start(k, "alice@example.org", &exp);
			if (exp < 0 || exp >= 86400 * 7)
				abort();
			break;
		}
		case 1:
			rv = kwkms_validation_finish(k, "alice@example.org", "123456");
			if (rv == KW_OK && kwkms_session(k)[0] == '\0')
				abort();
			break;
		case 2: (void)kwkms_set_password(k, "correct horse", NULL); break;
		case 3:
			rv = kwkms_sign_csr(k, csr, &cert, &serial);
			check_str(rv, cert);
			check_str(rv, serial);
			break;
		case 4:
			rv = kwkms_sign_csr_attested(k, csr, att, 2, &cert, &serial, &attested);
			check_str(rv, cert);
			check_str(rv, serial);
			break;
		case 5: (void)kwkms_revoke(k, "0A1B2C", 4); break;
		case 6:
			rv = kwkms_directory(k, "bob+tag@example.org", &cert);
			check_str(rv, cert);
			break;
		default:
			rv = kwkms_ca(k, &cert);
			check_str(rv, cert);
			break;
		}
		/* the error strings are always terminated */
		(void)strlen(kwkms_error(k));
		(void)strlen(kwkms_message(k));
		free(cert);
		free(serial);
		cert = serial = NULL;
	}
	kwkms_free(&k);
}

static char *
b64(const uint8_t *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static char *
take_str(fz_in *in)
{
	kw_view v = fz_chunk(in);
	char *s = malloc(v.len + 1);

	if (s != NULL) {
		if (v.len > 0)
			memcpy(s, v.ptr, v.len);
		s[v.len] = '\0';
	}
	return s;
}

/* A delivery as the KMS makes it: RSA-OAEP(SHA-1) of a 32-byte transport
 * key, AES-256 key wrap with padding of the PKCS#8 key under it. */
static bool
valid_delivery(fz_in *in, char **etk, char **wk)
{
	uint8_t tk[32], ct[512], wrapped[1024], key[1024];
	size_t ctlen = sizeof(ct), klen = user_pkcs8_len;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(eph, NULL);
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;
	bool ok = false;
	unsigned i;

	memset(tk, 0x42, sizeof(tk));
	memcpy(key, user_pkcs8, klen);
	/* optional zero padding after the DER (what SoftHSM leaves) */
	for (i = fz_u8(in) % 8; i > 0 && klen < sizeof(key); i--)
		key[klen++] = 0;
	if (pc == NULL || cc == NULL || EVP_PKEY_encrypt_init(pc) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha1()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha1()) != 1 ||
	    EVP_PKEY_encrypt(pc, ct, &ctlen, tk, sizeof(tk)) != 1)
		goto out;
	EVP_CIPHER_CTX_set_flags(cc, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_EncryptInit_ex(cc, EVP_aes_256_wrap_pad(), NULL, tk, NULL) != 1 ||
	    EVP_EncryptUpdate(cc, wrapped, &n1, key, (int)klen) != 1 ||
	    EVP_EncryptFinal_ex(cc, wrapped + n1, &n2) != 1)
		goto out;
	/* input-chosen changes: (which, position, xor) */
	for (i = 0; i < 4 && in->n >= 3; i++) {
		uint8_t which = fz_u8(in), at = fz_u8(in), x = fz_u8(in);

		if (which & 1)
			ct[at % ctlen] ^= x;
		else
			wrapped[at % (size_t)(n1 + n2)] ^= x;
	}
	*etk = b64(ct, ctlen);
	*wk = b64(wrapped, (size_t)(n1 + n2));
	ok = *etk != NULL && *wk != NULL;
out:
	EVP_PKEY_CTX_free(pc);
	EVP_CIPHER_CTX_free(cc);
	return ok;
}

static void
delivery(fz_in *in, bool valid)
{
	char *etk = NULL, *wk = NULL, *cert = NULL;
	kw_secret pkcs8 = { 0 };
	size_t before = in->n;
	kw_rv rv;

	if (valid) {
		if (!valid_delivery(in, &etk, &wk))
			goto out;
	} else {
		etk = take_str(in);
		wk = take_str(in);
	}
	cert = (fz_u8(in) & 1) ? take_str(in) : strdup(user_cert_pem);
	if (etk == NULL || wk == NULL || cert == NULL)
		goto out;
	rv = kwkms_unwrap_key(eph, etk, wk, &pkcs8);
	if (rv == KW_OK) {
		if (pkcs8.ptr == NULL || pkcs8.len == 0)
			abort();
		rv = kwkms_key_matches(&pkcs8, cert);
		if (valid && before - in->n <= 2 && strcmp(cert, user_cert_pem) == 0 &&
		    (rv != KW_OK || pkcs8.len != user_pkcs8_len ||
		    memcmp(pkcs8.ptr, user_pkcs8, user_pkcs8_len) != 0))
			abort();
	} else if (valid && before - in->n <= 2) {
		abort();   /* an unchanged delivery was refused */
	}
out:
	kw_secret_free(&pkcs8);
	free(etk);
	free(wk);
	free(cert);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size);
	uint8_t mode = fz_u8(&in);

	if (mode & 1) {
		delivery(&in, (mode & 2) != 0);
	} else {
		/* a step byte count, the steps, then the answers */
		kw_view steps = fz_chunk8(&in);
		fz_in s = fz_make(steps.ptr, steps.len);

		answers = in;
		calls(&s);
		answers = fz_make(NULL, 0);
	}
	return 0;
}
