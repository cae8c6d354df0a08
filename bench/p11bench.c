/* p11bench: time one PKCS#11 module on a provisioned (virtual) token and
 * count the APDUs each step costs, from the token's trace file.
 *
 *   p11bench --module SO [--trace FILE] [--pin PIN] [--seconds N] [--help]
 *
 * Steps (keys as tests/interop/provision.sh lays them out):
 *   startup   dlopen, C_Initialize, slot list, C_OpenSession, find every
 *             certificate and read its CKA_LABEL and CKA_VALUE (what a mail
 *             client does first)
 *   login     C_Login(CKU_USER)
 *   rsa_sign1 first RSA-2048 signature with 9A (id 01), key lookup included
 *   rsa_sign  a warm RSA-2048 signature (CKM_SHA256_RSA_PKCS)
 *   p256_sign a P-256 signature with 9C (id 02), incl. its CKU_CONTEXT_SPECIFIC login
 *   rsa_decrypt one CKM_RSA_PKCS decryption with 9D (id 03)
 *   sign/s    RSA-2048 signatures per second over --seconds (9A)
 * Every signature is verified and the decryption compared with OpenSSL.
 * Output: one JSON object on stdout. APDUs = '>' lines added to --trace. */
#include "../tests/interop/p11_util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct pb_ctx {
	struct kwi_p11 p11;
	const char *trace;
	const char *pin;
	double seconds;
	CK_SESSION_HANDLE s;
	int first;
	int errors;
};

static void
pb_usage(FILE *out)
{
	fprintf(out,
	    "usage: p11bench --module SO [--trace FILE] [--pin PIN] [--seconds N]\n"
	    "Times start-up to the first certificate list, C_Login, RSA-2048 and\n"
	    "P-256 signatures, an RSA decryption and signatures/s on the first\n"
	    "token of the module; APDUs are counted from the token's trace file.\n"
	    "Prints one JSON object.\n");
}

static long
pb_trace_count(const char *path)
{
	char line[64];
	long n = 0;
	int bol = 1;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (bol && line[0] == '>')
			n++;
		bol = strchr(line, '\n') != NULL;
	}
	fclose(f);
	return n;
}

/* The token appends to its trace as it answers: wait until it is quiet. */
static long
pb_trace_settled(const char *path)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	long a = pb_trace_count(path), b;
	int i;

	for (i = 0; i < 50; i++) {
		nanosleep(&ts, NULL);
		b = pb_trace_count(path);
		if (b == a)
			break;
		a = b;
	}
	return a;
}

static void
pb_report(struct pb_ctx *c, const char *step, double t0, double t1, long a0,
    CK_RV rv)
{
	long a1 = pb_trace_settled(c->trace);

	printf("%s\"%s\": {\"ms\": %.2f, \"apdus\": %ld, \"rv\": %lu}",
	    c->first ? "" : ", ", step, (t1 - t0) * 1000.0,
	    (a0 < 0 || a1 < 0) ? -1 : a1 - a0, (unsigned long)rv);
	c->first = 0;
	if (rv != CKR_OK) {
		fprintf(stderr, "p11bench: %s: CK_RV 0x%08lx\n", step, (unsigned long)rv);
		c->errors++;
	}
}

static CK_RV
pb_startup(struct pb_ctx *c, const char *module, int *ncerts)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl = { CKA_CLASS, &cls, sizeof(cls) };
	CK_OBJECT_HANDLE objs[64];
	CK_ULONG n = 0, i;
	unsigned char *v;
	size_t len;
	CK_RV rv;

	*ncerts = 0;
	if (kwi_p11_load(&c->p11, module) != 0)
		return CKR_GENERAL_ERROR;
	rv = kwi_p11_init(&c->p11);
	if (rv == CKR_OK)
		rv = kwi_p11_open(&c->p11, &c->s);
	if (rv == CKR_OK)
		rv = c->p11.f->C_FindObjectsInit(c->s, &tmpl, 1);
	if (rv == CKR_OK) {
		rv = c->p11.f->C_FindObjects(c->s, objs, 64, &n);
		c->p11.f->C_FindObjectsFinal(c->s);
	}
	for (i = 0; rv == CKR_OK && i < n; i++) {
		rv = kwi_p11_attr(&c->p11, c->s, objs[i], CKA_LABEL, &v, &len);
		free(v);
		if (rv == CKR_OK)
			rv = kwi_p11_attr(&c->p11, c->s, objs[i], CKA_VALUE, &v, &len);
		free(v);
	}
	*ncerts = (int)n;
	return rv;
}

/* Load the public side of key `id` (not timed), find its private key. */
static CK_RV
pb_key(struct pb_ctx *c, const char *id, struct kwi_key *k, CK_OBJECT_HANDLE *h)
{
	CK_RV rv;

	if (kwi_key_set_id(k, id) != 0)
		return CKR_ARGUMENTS_BAD;
	rv = kwi_p11_key_load(&c->p11, c->s, k);
	if (rv == CKR_OK)
		rv = kwi_p11_find(&c->p11, c->s, CKO_PRIVATE_KEY, k, h);
	return rv;
}

static CK_RV
pb_sign_verified(struct pb_ctx *c, CK_OBJECT_HANDLE h, const struct kwi_key *k,
    int i)
{
	unsigned char sig[512];
	char msg[64];
	size_t sig_len;
	int n = snprintf(msg, sizeof(msg), "p11bench message %d", i);
	CK_RV rv;

	rv = kwi_p11_sign(&c->p11, c->s, h, k, c->pin, (unsigned char *)msg,
	    (size_t)n, sig, &sig_len);
	if (rv == CKR_OK && !kwi_verify(k, (unsigned char *)msg, (size_t)n, sig, sig_len))
		rv = CKR_SIGNATURE_INVALID;
	return rv;
}

static CK_RV
pb_decrypt_checked(struct pb_ctx *c, CK_OBJECT_HANDLE h, const struct kwi_key *k,
    const unsigned char *ct, size_t ct_len, const unsigned char *pt, size_t pt_len)
{
	unsigned char out[512];
	size_t out_len;
	CK_RV rv;

	rv = kwi_p11_decrypt(&c->p11, c->s, h, k, c->pin, ct, ct_len, out, &out_len);
	if (rv == CKR_OK && (out_len != pt_len || memcmp(out, pt, pt_len) != 0))
		rv = CKR_ENCRYPTED_DATA_INVALID;
	return rv;
}

static void
pb_run(struct pb_ctx *c, const char *module)
{
	static const unsigned char pt[32] = "p11bench decryption secret 0123";
	struct kwi_key rsa = { 0 }, ec = { 0 }, dec = { 0 };
	CK_OBJECT_HANDLE hr = 0, he = 0, hd = 0;
	unsigned char ct[512];
	size_t ct_len = 0;
	double t0, t1;
	long a0;
	int ncerts = 0, i, count;
	CK_RV rv;

	a0 = pb_trace_settled(c->trace);
	t0 = kwi_now();
	rv = pb_startup(c, module, &ncerts);
	t1 = kwi_now();
	pb_report(c, "startup", t0, t1, a0, rv);
	printf(", \"certificates\": %d", ncerts);
	if (rv != CKR_OK)
		return;

	a0 = pb_trace_settled(c->trace);
	t0 = kwi_now();
	rv = kwi_p11_login(&c->p11, c->s, CKU_USER, c->pin);
	t1 = kwi_now();
	pb_report(c, "login", t0, t1, a0, rv);

	/* Public halves come from certificates already read: not timed. */
	if (kwi_key_set_id(&rsa, "01") != 0 || kwi_p11_key_load(&c->p11, c->s, &rsa) != CKR_OK ||
	    kwi_key_set_id(&ec, "02") != 0 || kwi_key_set_id(&dec, "03") != 0) {
		fprintf(stderr, "p11bench: no certificate with id 01\n");
		c->errors++;
		goto done;
	}
	a0 = pb_trace_settled(c->trace);
	t0 = kwi_now();
	rv = kwi_p11_find(&c->p11, c->s, CKO_PRIVATE_KEY, &rsa, &hr);
	if (rv == CKR_OK)
		rv = pb_sign_verified(c, hr, &rsa, 0);
	t1 = kwi_now();
	pb_report(c, "rsa_sign1", t0, t1, a0, rv);

	a0 = pb_trace_settled(c->trace);
	t0 = kwi_now();
	rv = pb_sign_verified(c, hr, &rsa, 1);
	t1 = kwi_now();
	pb_report(c, "rsa_sign", t0, t1, a0, rv);

	rv = pb_key(c, "02", &ec, &he);
	if (rv == CKR_OK) {
		a0 = pb_trace_settled(c->trace);
		t0 = kwi_now();
		rv = pb_sign_verified(c, he, &ec, 2);
		t1 = kwi_now();
		pb_report(c, "p256_sign", t0, t1, a0, rv);
	} else {
		pb_report(c, "p256_sign", 0, 0, -1, rv);
	}

	rv = pb_key(c, "03", &dec, &hd);
	if (rv == CKR_OK && kwi_encrypt(&dec, pt, sizeof(pt), ct, &ct_len) != 0)
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_OK) {
		a0 = pb_trace_settled(c->trace);
		t0 = kwi_now();
		rv = pb_decrypt_checked(c, hd, &dec, ct, ct_len, pt, sizeof(pt));
		t1 = kwi_now();
		pb_report(c, "rsa_decrypt", t0, t1, a0, rv);
	} else {
		pb_report(c, "rsa_decrypt", 0, 0, -1, rv);
	}

	a0 = pb_trace_settled(c->trace);
	t0 = kwi_now();
	rv = CKR_OK;
	for (count = 0, i = 100; rv == CKR_OK && kwi_now() - t0 < c->seconds; i++, count++)
		rv = pb_sign_verified(c, hr, &rsa, i);
	t1 = kwi_now();
	pb_report(c, "sign_loop", t0, t1, a0, rv);
	printf(", \"signatures\": %d, \"sign_per_s\": %.2f", count,
	    count / (t1 - t0));
done:
	kwi_key_clear(&rsa);
	kwi_key_clear(&ec);
	kwi_key_clear(&dec);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "trace", required_argument, NULL, 't' },
		{ "pin", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pb_ctx c;
	const char *module = NULL;
	int opt;

	memset(&c, 0, sizeof(c));
	c.pin = "123456";
	c.seconds = 3;
	c.first = 1;
	c.s = CK_INVALID_HANDLE;
	while ((opt = getopt_long(argc, argv, "m:t:p:s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': module = optarg; break;
		case 't': c.trace = optarg; break;
		case 'p': c.pin = optarg; break;
		case 's': c.seconds = atof(optarg); break;
		case 'h': pb_usage(stdout); return 0;
		default: pb_usage(stderr); return 2;
		}
	}
	if (module == NULL || c.seconds <= 0) {
		pb_usage(stderr);
		return 2;
	}
	printf("{\"module\": \"%s\", \"steps\": {", module);
	pb_run(&c, module);
	printf("}, \"errors\": %d}\n", c.errors);
	if (c.s != CK_INVALID_HANDLE && c.p11.f != NULL)
		c.p11.f->C_CloseSession(c.s);
	kwi_p11_unload(&c.p11);
	return c.errors == 0 ? 0 : 1;
}
