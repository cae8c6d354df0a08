/* --attest-ca: a test attestation root in DIR/attest-ca.{pem,key}, which
 * each vcard uses to issue its F9 attestation certificate, as Yubico's
 * root issues a YubiKey's intermediate. RSA-2048 like Yubico's root. A
 * CA already in DIR (a reused --state-dir) is kept: the tokens' F9
 * certificates were issued by it. */
#include "testenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define KWT_CA_SUBJECT "keyward-testenv attestation CA"
#define KWT_CA_DAYS 3650

static int
kwt_ca_add_ext(X509 *crt, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, crt, crt, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(crt, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static int
kwt_ca_set_serial(X509 *crt)
{
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return 0;
	rnd[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)))
		ok = 1;
	BN_free(bn);
	return ok;
}

static X509 *
kwt_ca_make_cert(EVP_PKEY *key)
{
	X509 *crt = X509_new();
	X509_NAME *name;

	if (crt == NULL || !X509_set_version(crt, 2) || !kwt_ca_set_serial(crt))
		goto fail;
	name = X509_get_subject_name(crt);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)KWT_CA_SUBJECT, -1, -1, 0) ||
	    !X509_set_issuer_name(crt, name))
		goto fail;
	if (X509_gmtime_adj(X509_getm_notBefore(crt), -3600) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(crt), KWT_CA_DAYS, 0,
	    NULL) == NULL)
		goto fail;
	if (!X509_set_pubkey(crt, key) ||
	    !kwt_ca_add_ext(crt, NID_basic_constraints, "critical,CA:TRUE") ||
	    !kwt_ca_add_ext(crt, NID_key_usage,
	    "critical,keyCertSign,cRLSign") ||
	    !kwt_ca_add_ext(crt, NID_subject_key_identifier, "hash"))
		goto fail;
	if (X509_sign(crt, key, EVP_sha256()) <= 0)
		goto fail;
	return crt;
fail:
	X509_free(crt);
	return NULL;
}

static int
kwt_ca_write_key(const char *path, EVP_PKEY *key)
{
	FILE *f = NULL;
	int fd, ok = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
		goto out;
	fd = -1;
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
out:
	if (fd >= 0)
		close(fd);
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok;
}

static int
kwt_ca_write_cert(const char *path, X509 *crt)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return 0;
	ok = PEM_write_X509(f, crt) == 1;
	if (fclose(f) != 0)
		ok = 0;
	return ok;
}

int
kwt_ca_create(struct kwt_env *env)
{
	EVP_PKEY *key = NULL;
	X509 *crt = NULL;
	int rc = -1;

	if (kwt_path(env->ca_cert, sizeof(env->ca_cert), env->dir,
	    "attest-ca.pem") != 0 ||
	    kwt_path(env->ca_key, sizeof(env->ca_key), env->dir,
	    "attest-ca.key") != 0)
		goto fail;
	if (access(env->ca_cert, R_OK) == 0 && access(env->ca_key, R_OK) == 0)
		return 0;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (key == NULL || (crt = kwt_ca_make_cert(key)) == NULL) {
		kwt_msg("cannot create the attestation CA: %s",
		    ERR_reason_error_string(ERR_get_error()));
		goto fail;
	}
	if (!kwt_ca_write_key(env->ca_key, key) ||
	    !kwt_ca_write_cert(env->ca_cert, crt)) {
		kwt_msg("cannot write %s: %s", env->ca_cert, strerror(errno));
		goto fail;
	}
	rc = 0;
fail:
	if (rc != 0) {
		env->ca_cert[0] = '\0';
		env->ca_key[0] = '\0';
	}
	X509_free(crt);
	EVP_PKEY_free(key);
	return rc;
}
