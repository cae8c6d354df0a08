/* kwkms-tool: a command-line face of libkwkms, for tests and for poking at
 * a KMS by hand. It never writes a private key anywhere: `fetch` reports
 * each delivered key by the SHA-256 of its public key, and can decrypt a
 * CMS message with the delivered keys in memory. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/x509.h>

#include "kwkms.h"
#include "kw_buf.h"

struct opts {
	const char *url, *ca, *session, *password, *old_password, *cms;
	bool probe;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: kwkms-tool --url URL [--ca FILE] [--session TOKEN] COMMAND ARGS\n"
	    "Commands:\n"
	    "  validate-start EMAIL          mail a validation value to EMAIL\n"
	    "  validate-finish EMAIL VALUE   print a session token\n"
	    "  password NEW [--old-password OLD]\n"
	    "  sign CSR.pem                  print the signing certificate (PEM)\n"
	    "  revoke SERIAL [REASON]\n"
	    "  fetch [--password PW] [--cms MSG.pem] [--probe]\n"
	    "                                fetch current + older encryption keys;\n"
	    "                                one line per key: seq key_id current\n"
	    "                                spki_sha256; --cms decrypts a PEM CMS\n"
	    "                                message to stdout with them\n"
	    "  directory EMAIL               print EMAIL's encryption certificate\n"
	    "  ca                            print the CA certificate\n");
}

static int
report(kwkms *k, kw_rv rv)
{
	if (rv == KW_OK)
		return 0;
	fprintf(stderr, "kwkms-tool: %s (HTTP %ld): %s\n", kwkms_error(k)[0] != '\0' ?
	    kwkms_error(k) : kw_strerror(rv), kwkms_status(k), kwkms_message(k));
	return 1;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1 << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = calloc(1, (size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static EVP_PKEY *
key_of(const kwkms_key *key)
{
	const unsigned char *p = key->pkcs8.ptr;

	return d2i_AutoPrivateKey(NULL, &p, (long)key->pkcs8.len);
}

static void
print_key(const kwkms_key *key, bool probe)
{
	EVP_PKEY *pk = key_of(key);
	unsigned char *der = NULL, h[32];
	unsigned int hl = 32;
	char hex[65] = "?", ph[65] = "";
	int n;

	if (pk != NULL && (n = i2d_PUBKEY(pk, &der)) > 0 &&
	    EVP_Digest(der, (size_t)n, h, &hl, EVP_sha256(), NULL) == 1)
		kw_hex_encode(h, 32, hex, sizeof(hex));
	/* Test hook: 32 bytes from the middle of the private key DER, so a test
	 * can scan files for known key bytes. */
	if (probe && key->pkcs8.len > 200)
		kw_hex_encode(key->pkcs8.ptr + key->pkcs8.len / 2, 32, ph, sizeof(ph));
	printf("%ld %s %d %s%s%s\n", key->seq, key->key_id, key->current ? 1 : 0, hex,
	    probe ? " " : "", ph);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
}

static int
cms_decrypt(const kwkms_key *keys, size_t n, const char *path)
{
	BIO *in = BIO_new_file(path, "r"), *out = BIO_new_fp(stdout, BIO_NOCLOSE);
	CMS_ContentInfo *cms = in != NULL ? PEM_read_bio_CMS(in, NULL, NULL, NULL) : NULL;
	size_t i;
	int ret = 1;

	for (i = 0; cms != NULL && i < n && ret != 0; i++) {
		EVP_PKEY *pk = key_of(&keys[i]);
		BIO *cb = BIO_new_mem_buf(keys[i].cert_pem, -1);
		X509 *x = cb != NULL ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;

		if (pk != NULL && x != NULL && CMS_decrypt(cms, pk, x, NULL, out, 0) == 1) {
			fprintf(stderr, "kwkms-tool: decrypted with key %s (seq %ld)\n",
			    keys[i].key_id, keys[i].seq);
			ret = 0;
		}
		X509_free(x);
		BIO_free(cb);
		EVP_PKEY_free(pk);
	}
	if (ret != 0)
		fprintf(stderr, "kwkms-tool: no delivered key decrypts %s\n", path);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(out);
	return ret;
}

static int
cmd_fetch(kwkms *k, const struct opts *o)
{
	kwkms_key *keys = NULL;
	size_t n = 0, i;
	int ret;

	if ((ret = report(k, kwkms_fetch_keys(k, o->password, &keys, &n))) != 0)
		return ret;
	if (o->cms != NULL)
		ret = cms_decrypt(keys, n, o->cms);
	else
		for (i = 0; i < n; i++)
			print_key(&keys[i], o->probe);
	kwkms_keys_free(&keys, n);
	return ret;
}

static int
print_free(char *s)
{
	fputs(s, stdout);
	free(s);
	return 0;
}

static int
dispatch(kwkms *k, const struct opts *o, int argc, char **argv)
{
	const char *cmd = argv[0];
	char *a = NULL, *b = NULL, *c = NULL;
	int ret;

	if (strcmp(cmd, "validate-start") == 0 && argc == 2)
		return report(k, kwkms_validation_start(k, argv[1], NULL));
	if (strcmp(cmd, "validate-finish") == 0 && argc == 3) {
		if ((ret = report(k, kwkms_validation_finish(k, argv[1], argv[2]))) == 0)
			printf("%s\n", kwkms_session(k));
		return ret;
	}
	if (strcmp(cmd, "password") == 0 && argc == 2)
		return report(k, kwkms_set_password(k, argv[1], o->old_password));
	if (strcmp(cmd, "sign") == 0 && argc == 2) {
		if ((a = read_file(argv[1])) == NULL) {
			fprintf(stderr, "kwkms-tool: cannot read %s\n", argv[1]);
			return 1;
		}
		ret = report(k, kwkms_sign_csr(k, a, &b, &c));
		free(a);
		free(c);
		return ret == 0 ? print_free(b) : ret;
	}
	if (strcmp(cmd, "revoke") == 0 && (argc == 2 || argc == 3))
		return report(k, kwkms_revoke(k, argv[1], argc == 3 ? atoi(argv[2]) : 0));
	if (strcmp(cmd, "fetch") == 0 && argc == 1)
		return cmd_fetch(k, o);
	if (strcmp(cmd, "directory") == 0 && argc == 2)
		return (ret = report(k, kwkms_directory(k, argv[1], &a))) == 0 ? print_free(a) : ret;
	if (strcmp(cmd, "ca") == 0 && argc == 1)
		return (ret = report(k, kwkms_ca(k, &a))) == 0 ? print_free(a) : ret;
	usage(stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "ca", required_argument, NULL, 'c' },
		{ "session", required_argument, NULL, 's' },
		{ "password", required_argument, NULL, 'p' },
		{ "old-password", required_argument, NULL, 'o' },
		{ "cms", required_argument, NULL, 'm' },
		{ "probe", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	kwkms *k = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o.url = optarg; break;
		case 'c': o.ca = optarg; break;
		case 's': o.session = optarg; break;
		case 'p': o.password = optarg; break;
		case 'o': o.old_password = optarg; break;
		case 'm': o.cms = optarg; break;
		case 'P': o.probe = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.url == NULL || optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (kwkms_new(o.url, o.ca, &k) != KW_OK ||
	    (o.session != NULL && kwkms_set_session(k, o.session) != KW_OK)) {
		fprintf(stderr, "kwkms-tool: bad --url (https://...) or --session\n");
		kwkms_free(&k);
		return 2;
	}
	ret = dispatch(k, &o, argc - optind, argv + optind);
	kwkms_free(&k);
	return ret;
}
