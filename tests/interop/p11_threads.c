/* p11_threads: N threads signing on one token through one PKCS#11 module,
 * every signature verified with OpenSSL against the token's certificate.
 *
 *   p11_threads --module SO [--threads 8] [--iterations 10] [--pin 123456]
 *               [--ids 01,02] [--min-seconds S] [--help]
 *
 * The module is initialised with CKF_OS_LOCKING_OK; one session logs in as
 * the user and stays open; each thread opens its own session, finds its key
 * (thread i uses id number i mod count) and signs distinct messages. Keys with
 * CKA_ALWAYS_AUTHENTICATE get a CKU_CONTEXT_SPECIFIC login per signature.
 * With --min-seconds, threads go on signing past ITERATIONS until S seconds
 * have passed since the signing phase began.
 * Prints "start=T end=T" (CLOCK_REALTIME, seconds) of the signing phase so a
 * caller can check that two processes overlapped. Exit 0 only if every
 * signature was made and verified. */
#include "p11_util.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KWT_MAX_THREADS 64
#define KWT_MAX_KEYS 8

struct kwt_run {
	struct kwi_p11 p11;
	struct kwi_key keys[KWT_MAX_KEYS];
	int nkeys;
	int iterations;
	double min_seconds;
	double t0;
	const char *pin;
};

struct kwt_thread {
	struct kwt_run *run;
	pthread_t tid;
	int index;
	int signed_ok;
	int failed;
	CK_RV last_rv;
};

static void
kwt_usage(FILE *out)
{
	fprintf(out,
	    "usage: p11_threads --module SO [--threads N] [--iterations N]\n"
	    "                   [--pin PIN] [--ids 01,02] [--min-seconds S] [--help]\n"
	    "N threads each open a session and sign ITERATIONS messages with the\n"
	    "keys of the given CKA_IDs (round robin); every signature is verified\n"
	    "with OpenSSL against the certificate with the same CKA_ID; with\n"
	    "--min-seconds they go on until S seconds have passed.\n");
}

static double
kwt_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
kwt_thread_main(void *arg)
{
	struct kwt_thread *t = arg;
	struct kwt_run *run = t->run;
	const struct kwi_key *k = &run->keys[t->index % run->nkeys];
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE key;
	unsigned char sig[512];
	char msg[128];
	size_t sig_len;
	int i, n;

	t->last_rv = kwi_p11_open(&run->p11, &s);
	if (t->last_rv != CKR_OK)
		goto fail;
	t->last_rv = kwi_p11_find(&run->p11, s, CKO_PRIVATE_KEY, k, &key);
	if (t->last_rv != CKR_OK)
		goto fail;
	for (i = 0; i < run->iterations || kwi_now() - run->t0 < run->min_seconds; i++) {
		n = snprintf(msg, sizeof(msg), "keyward thread %d message %d", t->index, i);
		t->last_rv = kwi_p11_sign(&run->p11, s, key, k, run->pin,
		    (const unsigned char *)msg, (size_t)n, sig, &sig_len);
		if (t->last_rv != CKR_OK)
			goto fail;
		if (!kwi_verify(k, (const unsigned char *)msg, (size_t)n, sig, sig_len)) {
			fprintf(stderr, "thread %d: signature %d does not verify\n", t->index, i);
			t->failed++;
			continue;
		}
		t->signed_ok++;
	}
	run->p11.f->C_CloseSession(s);
	return NULL;
fail:
	fprintf(stderr, "thread %d: CK_RV 0x%08lx after %d signatures\n", t->index,
	    (unsigned long)t->last_rv, t->signed_ok);
	t->failed++;
	if (s != CK_INVALID_HANDLE)
		run->p11.f->C_CloseSession(s);
	return NULL;
}

static int
kwt_parse_ids(struct kwt_run *run, const char *list)
{
	char buf[128], *tok, *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (run->nkeys == KWT_MAX_KEYS || kwi_key_set_id(&run->keys[run->nkeys], tok) != 0)
			return -1;
		run->nkeys++;
	}
	return run->nkeys > 0 ? 0 : -1;
}

static int
kwt_setup(struct kwt_run *run, const char *module, CK_SESSION_HANDLE *login)
{
	CK_RV rv;
	int i;

	if (kwi_p11_load(&run->p11, module) != 0)
		return -1;
	rv = kwi_p11_init(&run->p11);
	if (rv == CKR_OK)
		rv = kwi_p11_open(&run->p11, login);
	if (rv == CKR_OK)
		rv = kwi_p11_login(&run->p11, *login, CKU_USER, run->pin);
	for (i = 0; rv == CKR_OK && i < run->nkeys; i++)
		rv = kwi_p11_key_load(&run->p11, *login, &run->keys[i]);
	if (rv != CKR_OK) {
		fprintf(stderr, "p11_threads: setup failed: CK_RV 0x%08lx\n", (unsigned long)rv);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "pin", required_argument, NULL, 'p' },
		{ "ids", required_argument, NULL, 'i' },
		{ "min-seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct kwt_run run;
	static struct kwt_thread th[KWT_MAX_THREADS];
	const char *module = NULL, *ids = "01,02";
	CK_SESSION_HANDLE login = CK_INVALID_HANDLE;
	int nthreads = 8, i, c, ok = 0, bad = 0, rc = 1;
	double t0, t1;

	run.iterations = 10;
	run.pin = "123456";
	while ((c = getopt_long(argc, argv, "m:t:n:p:i:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': module = optarg; break;
		case 't': nthreads = atoi(optarg); break;
		case 'n': run.iterations = atoi(optarg); break;
		case 'p': run.pin = optarg; break;
		case 'i': ids = optarg; break;
		case 's': run.min_seconds = atof(optarg); break;
		case 'h': kwt_usage(stdout); return 0;
		default: kwt_usage(stderr); return 2;
		}
	}
	if (module == NULL || nthreads < 1 || nthreads > KWT_MAX_THREADS ||
	    run.iterations < 1 || run.min_seconds < 0 || run.min_seconds > 600 ||
	    kwt_parse_ids(&run, ids) != 0) {
		kwt_usage(stderr);
		return 2;
	}
	if (kwt_setup(&run, module, &login) != 0)
		goto done;
	t0 = kwt_wall();
	run.t0 = kwi_now();
	for (i = 0; i < nthreads; i++) {
		th[i].run = &run;
		th[i].index = i;
		if (pthread_create(&th[i].tid, NULL, kwt_thread_main, &th[i]) != 0) {
			fprintf(stderr, "p11_threads: pthread_create failed\n");
			nthreads = i;
			bad++;
			break;
		}
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i].tid, NULL);
		ok += th[i].signed_ok;
		bad += th[i].failed;
	}
	t1 = kwt_wall();
	printf("start=%.3f end=%.3f\n", t0, t1);
	printf("p11_threads: %d threads, %d signatures verified, %d failures, %.2f s\n",
	    nthreads, ok, bad, t1 - t0);
	rc = (bad == 0 && ok >= nthreads * run.iterations) ? 0 : 1;
done:
	if (login != CK_INVALID_HANDLE)
		run.p11.f->C_CloseSession(login);
	for (i = 0; i < run.nkeys; i++)
		kwi_key_clear(&run.keys[i]);
	kwi_p11_unload(&run.p11);
	return rc;
}
