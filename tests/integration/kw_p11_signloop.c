/* kw_p11_signloop: many PKCS#11 operations in ONE process, for the transport
 * fault tests (a late modem reply, a card pulled or reset during a command):
 *
 *   kw_p11_signloop --module SO --pin PIN --id HEX --count N
 *                   [--login-loop] [--relogin] [--sync DIR --sync-at I]
 *
 * Each round signs a fresh message with the key of CKA_ID HEX and verifies
 * the signature with OpenSSL against the key's certificate (--login-loop:
 * C_Logout + C_Login instead). Before round I (--sync-at) it creates
 * DIR/ready and waits up to 20 s for DIR/go, so that a test can act between
 * rounds (reset the card from another process). --relogin: a round that
 * fails while the session shows no login (C_GetSessionInfo) logs in again
 * and is tried once more.
 * One line per round on stdout:
 *   round 3: sign CKR_OK verified 12 ms
 * then "session: CKR_..." (C_GetSessionInfo) and "token: present|absent".
 * Exit status 0 when the setup worked, whatever the rounds gave. */
#include "../interop/p11_util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

struct opts {
	const char *module, *pin, *id, *sync;
	int count, sync_at, login_loop, relogin;
};

static const char *
rv_name(CK_RV rv)
{
	static char buf[24];

	switch (rv) {
	case CKR_OK: return "CKR_OK";
	case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
	case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
	case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
	case CKR_SESSION_CLOSED: return "CKR_SESSION_CLOSED";
	case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_ALREADY_LOGGED_IN: return "CKR_USER_ALREADY_LOGGED_IN";
	case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
	case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
	case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
	case CKR_OBJECT_HANDLE_INVALID: return "CKR_OBJECT_HANDLE_INVALID";
	case CKR_DATA_INVALID: return "CKR_DATA_INVALID";
	default:
		snprintf(buf, sizeof(buf), "0x%08lx", (unsigned long)rv);
		return buf;
	}
}

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: kw_p11_signloop --module SO --pin PIN --id HEX --count N\n"
	    "                       [--login-loop] [--relogin] [--sync DIR --sync-at I]\n"
	    "Signs (or logs in) N times in one process, verifying every signature.\n");
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "module", required_argument, NULL, 'm' }, { "pin", required_argument, NULL, 'p' },
		{ "id", required_argument, NULL, 'i' }, { "count", required_argument, NULL, 'n' },
		{ "sync", required_argument, NULL, 's' }, { "sync-at", required_argument, NULL, 'a' },
		{ "login-loop", no_argument, NULL, 'l' }, { "relogin", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->count = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'm': o->module = optarg; break;
		case 'p': o->pin = optarg; break;
		case 'i': o->id = optarg; break;
		case 'n': o->count = atoi(optarg); break;
		case 's': o->sync = optarg; break;
		case 'a': o->sync_at = atoi(optarg); break;
		case 'l': o->login_loop = 1; break;
		case 'r': o->relogin = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->module == NULL || o->pin == NULL || (o->id == NULL && !o->login_loop) ||
	    o->count < 1 || o->count > 10000 || (o->sync_at > 0 && o->sync == NULL)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void
sync_point(const char *dir)
{
	char ready[4096], go[4096];
	struct stat st;
	FILE *f;
	int i;

	snprintf(ready, sizeof(ready), "%s/ready", dir);
	snprintf(go, sizeof(go), "%s/go", dir);
	if ((f = fopen(ready, "w")) != NULL)
		fclose(f);
	for (i = 0; i < 2000 && stat(go, &st) != 0; i++)
		usleep(10000);
}

/* One signature, verified. */
static CK_RV
sign_round(struct kwi_p11 *p, CK_SESSION_HANDLE s, const struct kwi_key *k,
    const char *pin, const char **verdict)
{
	unsigned char msg[64], sig[512];
	size_t sig_len = sizeof(sig);
	CK_OBJECT_HANDLE key;
	CK_RV rv;

	*verdict = "-";
	(void)RAND_bytes(msg, sizeof(msg));
	if ((rv = kwi_p11_find(p, s, CKO_PRIVATE_KEY, k, &key)) != CKR_OK)
		return rv;
	rv = kwi_p11_sign(p, s, key, k, pin, msg, sizeof(msg), sig, &sig_len);
	if (rv == CKR_OK)
		*verdict = kwi_verify(k, msg, sizeof(msg), sig, sig_len) == 1 ? "verified" : "INVALID";
	return rv;
}

/* The session shows no user login (the token forgot it): private keys are
 * hidden then, so a search finds nothing, and signing wants a login. */
static int
logged_out(struct kwi_p11 *p, CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO si;

	return p->f->C_GetSessionInfo(s, &si) == CKR_OK &&
	    (si.state == CKS_RO_PUBLIC_SESSION || si.state == CKS_RW_PUBLIC_SESSION);
}

static CK_RV
login_round(struct kwi_p11 *p, CK_SESSION_HANDLE s, const char *pin)
{
	(void)p->f->C_Logout(s);
	return kwi_p11_login(p, s, CKU_USER, pin);
}

int
main(int argc, char **argv)
{
	struct kwi_p11 p;
	struct kwi_key k;
	struct opts o;
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO si;
	CK_SLOT_ID slots[32];
	CK_ULONG n = 32, i;
	const char *verdict;
	double t0;
	int round, present = 0;
	CK_RV rv;

	if (parse(argc, argv, &o) != 0)
		return 2;
	memset(&k, 0, sizeof(k));
	if (kwi_p11_load(&p, o.module) != 0)
		return 1;
	if ((rv = kwi_p11_init(&p)) != CKR_OK || (rv = kwi_p11_open(&p, &s)) != CKR_OK ||
	    (rv = kwi_p11_login(&p, s, CKU_USER, o.pin)) != CKR_OK ||
	    (!o.login_loop && (kwi_key_set_id(&k, o.id) != 0 ||
	    (rv = kwi_p11_key_load(&p, s, &k)) != CKR_OK))) {
		fprintf(stderr, "kw_p11_signloop: setup: %s\n", rv_name(rv));
		kwi_p11_unload(&p);
		return 1;
	}
	for (round = 1; round <= o.count; round++) {
		if (round == o.sync_at)
			sync_point(o.sync);
		t0 = kwi_now();
		verdict = "-";
		rv = o.login_loop ? login_round(&p, s, o.pin) : sign_round(&p, s, &k, o.pin, &verdict);
		if (rv != CKR_OK && o.relogin && logged_out(&p, s)) {
			printf("round %d: %s %s, logged out: logging in again\n", round,
			    o.login_loop ? "login" : "sign", rv_name(rv));
			if ((rv = kwi_p11_login(&p, s, CKU_USER, o.pin)) == CKR_OK && !o.login_loop)
				rv = sign_round(&p, s, &k, o.pin, &verdict);
		}
		printf("round %d: %s %s %s %.0f ms\n", round, o.login_loop ? "login" : "sign",
		    rv_name(rv), verdict, (kwi_now() - t0) * 1000.0);
		fflush(stdout);
	}
	printf("session: %s\n", rv_name(p.f->C_GetSessionInfo(s, &si)));
	if (p.f->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK)
		for (i = 0; i < n; i++)
			present |= slots[i] == p.slot;
	printf("token: %s\n", present ? "present" : "absent");
	kwi_key_clear(&k);
	/* C_Finalize, but no dlclose: a helper thread of the module's bounded
	 * PC/SC connect may still be finishing after a removal, and unmapping
	 * the library under it crashes the process (seen under load; a module
	 * bug of its own, not what this program tests). */
	(void)p.f->C_Finalize(NULL);
	return 0;
}
