/* kw-ble-probe: drives a transport by URI (ble: or any other) through the
 * PIV client for the BLE integration tests and drivers/ble/bench-ble.sh.
 *
 *   kw-ble-probe --list
 *   kw-ble-probe URI [--count N] [--sign SLOT] [--pin PIN] [--reopen] [--stats]
 *
 * Each operation is SELECT + GET VERSION, with --sign SLOT (hex, an EC
 * P-256 key, or RSA-2048 with --rsa) also VERIFY PIN + a signature of a
 * fixed hash. One line per
 * step: "open ok 12.3ms", "op 1 error: card removed 0.4ms". --reopen:
 * after a failed operation the transport is closed and opened again before
 * the next one. --stats: a JSON line with frames/bytes (ble: only) and the
 * mean time per operation. Exit 0 when the last operation succeeded, 2
 * otherwise, 1 on usage errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ble/kw_ble.h"
#include "kw_log.h"
#include "kw_piv.h"
#include "kw_transport.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
do_list(void)
{
	kw_strlist l = { 0 };
	size_t i;

	if (kw_transport_list_all(&l) != KW_OK)
		return 2;
	for (i = 0; i < l.n; i++)
		printf("%s\n", l.v[i]);
	kw_strlist_free(&l);
	return 0;
}

static kw_rv
one_op(kw_piv *piv, int slot, int alg, const char *pin)
{
	static const uint8_t hash[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	uint8_t ver[3], block[256];
	kw_buf sig;
	int tries;
	kw_rv rv;

	if ((rv = kw_piv_select(piv)) != KW_OK || (rv = kw_piv_get_version(piv, ver)) != KW_OK)
		return rv;
	if (slot < 0)
		return KW_OK;
	if ((rv = kw_piv_verify(piv, 0x80, (const uint8_t *)pin, strlen(pin), &tries)) != KW_OK)
		return rv;
	kw_buf_init(&sig, 1024);
	if (alg == 0x07) {       /* RSA-2048: a PKCS#1 v1.5 type 1 block */
		memset(block, 0xFF, sizeof(block));
		block[0] = 0x00;
		block[1] = 0x01;
		block[sizeof(block) - sizeof(hash) - 1] = 0x00;
		memcpy(block + sizeof(block) - sizeof(hash), hash, sizeof(hash));
		rv = kw_piv_private_op(piv, (uint8_t)slot, 0x07, block, sizeof(block), &sig);
	} else {
		rv = kw_piv_private_op(piv, (uint8_t)slot, 0x11, hash, sizeof(hash), &sig);
	}
	kw_buf_free(&sig);
	return rv;
}

static kw_rv
open_uri(const char *uri, kw_transport **t, kw_piv **piv)
{
	double t0 = now_ms();
	kw_rv rv = kw_transport_open(uri, t);

	if (rv == KW_OK && (rv = kw_piv_new(*t, piv)) != KW_OK)
		kw_transport_free(t);
	printf("open %s%s %.1fms\n", rv == KW_OK ? "ok" : "error: ",
	    rv == KW_OK ? "" : kw_strerror(rv), now_ms() - t0);
	return rv;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "list", no_argument, NULL, 'l' }, { "count", required_argument, NULL, 'c' },
		{ "sign", required_argument, NULL, 's' }, { "pin", required_argument, NULL, 'p' },
		{ "rsa", no_argument, NULL, 'R' }, { "reopen", no_argument, NULL, 'r' }, { "stats", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	const char *pin = "123456", *uri;
	kw_transport *t = NULL;
	kw_piv *piv = NULL;
	kw_ble_stats st;
	kw_rv rv = KW_ERR_ARG;
	int ch, count = 1, slot = -1, alg = 0x11, i, ok = 0;
	bool reopen = false, stats = false;
	double t0, total = 0;

	kw_log_init(-1);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'l': return do_list();
		case 'c': count = atoi(optarg); break;
		case 's': slot = (int)strtol(optarg, NULL, 16); break;
		case 'p': pin = optarg; break;
		case 'r': reopen = true; break;
		case 'R': alg = 0x07; break;
		case 'S': stats = true; break;
		case 'h':
			printf("usage: kw-ble-probe --list | URI [--count N] [--sign SLOT [--rsa]] "
			    "[--pin PIN] [--reopen] [--stats]\n");
			return 0;
		default: return 1;
		}
	}
	if (optind + 1 != argc || count < 1) {
		fprintf(stderr, "kw-ble-probe: want one URI (see --help)\n");
		return 1;
	}
	uri = argv[optind];
	if (open_uri(uri, &t, &piv) != KW_OK && !reopen)
		return 2;
	for (i = 1; i <= count; i++) {
		if (t == NULL && open_uri(uri, &t, &piv) != KW_OK)
			continue;
		t0 = now_ms();
		rv = one_op(piv, slot, alg, pin);
		total += now_ms() - t0;
		ok += rv == KW_OK;
		printf("op %d %s%s %.1fms\n", i, rv == KW_OK ? "ok" : "error: ",
		    rv == KW_OK ? "" : kw_strerror(rv), now_ms() - t0);
		fflush(stdout);
		if (rv != KW_OK && reopen) {
			kw_piv_free(&piv);
			kw_transport_free(&t);
		}
	}
	if (stats && t != NULL) {
		memset(&st, 0, sizeof(st));
		if (strncmp(uri, "ble:", 4) == 0)
			kw_ble_get_stats(kw_transport_ctx(t), &st);
		printf("{\"ops\": %d, \"ok\": %d, \"ms_per_op\": %.2f, \"apdus\": %llu, "
		    "\"frames_out\": %llu, \"frames_in\": %llu, \"bytes_out\": %llu, "
		    "\"bytes_in\": %llu, \"keepalives\": %llu, \"frag\": %zu, \"strays\": %llu, "
		    "\"resyncs\": %llu, \"private_notify\": %s, \"acquired_write\": %s}\n",
		    count, ok, total / count, (unsigned long long)kw_transport_apdu_count(t),
		    (unsigned long long)st.frames_out, (unsigned long long)st.frames_in,
		    (unsigned long long)st.bytes_out, (unsigned long long)st.bytes_in,
		    (unsigned long long)st.keepalives, st.frag, (unsigned long long)st.strays,
		    (unsigned long long)st.resyncs, st.private_notify ? "true" : "false",
		    st.acquired_write ? "true" : "false");
	}
	kw_piv_free(&piv);
	kw_transport_free(&t);
	return rv == KW_OK ? 0 : 2;
}
