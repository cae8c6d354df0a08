/* kw-pcsc-probe: exercises the PC/SC transport against a real pcscd for the
 * integration tests (tests/integration/test_keyward_pcsc.sh): keeps one
 * transport open across pcscd restarts and card removals and prints the
 * kw_rv of each step, or waits for a hotplug event. Not installed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kw_pcsc.h"
#include "kw_transport.h"

static const char probe_usage[] =
    "Usage: kw-pcsc-probe --uri URI [--loops N] [--interval-ms MS] [--hold-ms MS]\n"
    "                     [--reset]\n"
    "       kw-pcsc-probe --wait-change MS\n"
    "       kw-pcsc-probe --list\n"
    "Each loop: begin, SELECT PIV, present, end; prints one line of results\n"
    "(OK, SERVICE_GONE, CARD_REMOVED, NO_CARD, SHARING, ...); --hold-ms keeps\n"
    "the transaction that long before ending it; --reset warm-resets the card\n"
    "at the start of each loop. --wait-change prints\n"
    "\"changed\" or \"unchanged\". --list prints readers and URIs with a card.\n";

static const char *
rv_name(kw_rv rv)
{
	switch (rv) {
	case KW_OK: return "OK";
	case KW_ERR_NO_SERVICE: return "NO_SERVICE";
	case KW_ERR_SERVICE_GONE: return "SERVICE_GONE";
	case KW_ERR_NO_READER: return "NO_READER";
	case KW_ERR_NO_CARD: return "NO_CARD";
	case KW_ERR_CARD_REMOVED: return "CARD_REMOVED";
	case KW_ERR_CARD_RESET: return "CARD_RESET";
	case KW_ERR_SHARING: return "SHARING";
	case KW_ERR_TIMEOUT: return "TIMEOUT";
	case KW_ERR_PROTOCOL: return "PROTOCOL";
	default: return "OTHER";
	}
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static kw_rv
select_piv(kw_transport *t)
{
	static const uint8_t sel[] = { 0x00, 0xa4, 0x04, 0x00, 0x05,
		0xa0, 0x00, 0x00, 0x03, 0x08 };
	uint8_t resp[258];
	size_t rlen = sizeof(resp);

	return kw_transport_transmit(t, sel, sizeof(sel), resp, &rlen);
}

static int reset_each;

static int
probe_loop(const char *uri, int loops, int interval, int hold)
{
	kw_transport *t = NULL;
	kw_rv rv, b, x, p;
	int i;

	rv = kw_transport_open(uri, &t);
	printf("open %s\n", rv_name(rv));
	fflush(stdout);
	if (rv != KW_OK)
		return 1;
	for (i = 0; i < loops; i++) {
		printf("loop %d", i);
		if (reset_each)
			printf(" reset %s", rv_name(kw_transport_reset(t)));
		b = kw_transport_begin(t);
		x = select_piv(t);
		p = kw_transport_present(t);
		if (b == KW_OK && hold > 0) {
			printf(" holding\n");
			fflush(stdout);
			sleep_ms(hold);
		}
		if (b == KW_OK)
			(void)kw_transport_end(t);
		printf(" begin %s transmit %s present %s\n", rv_name(b), rv_name(x),
		    rv_name(p));
		fflush(stdout);
		if (i + 1 < loops)
			sleep_ms(interval);
	}
	kw_transport_free(&t);
	return 0;
}

static int
probe_wait(int ms)
{
	bool changed = false;
	kw_rv rv = kw_pcsc_wait_change(ms, &changed);

	if (rv != KW_OK) {
		printf("error %s\n", rv_name(rv));
		return 1;
	}
	printf("%s\n", changed ? "changed" : "unchanged");
	return 0;
}

static int
probe_list(void)
{
	kw_strlist l = { 0 };
	size_t i;
	kw_rv rv;

	if ((rv = kw_pcsc_list_readers(&l)) != KW_OK) {
		printf("error %s\n", rv_name(rv));
		return 1;
	}
	for (i = 0; i < l.n; i++)
		printf("reader %s\n", l.v[i]);
	kw_strlist_free(&l);
	if ((rv = kw_pcsc_ops.list(&l)) != KW_OK) {
		printf("error %s\n", rv_name(rv));
		return 1;
	}
	for (i = 0; i < l.n; i++)
		printf("card %s\n", l.v[i]);
	kw_strlist_free(&l);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "uri", required_argument, NULL, 'u' },
		{ "loops", required_argument, NULL, 'n' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "wait-change", required_argument, NULL, 'w' },
		{ "list", no_argument, NULL, 'l' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "reset", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *uri = NULL;
	int c, loops = 1, interval = 500, wait = -1, list = 0, hold = 0;

	while ((c = getopt_long(argc, argv, "u:n:i:w:lH:rh", lopts, NULL)) != -1) {
		switch (c) {
		case 'u': uri = optarg; break;
		case 'n': loops = atoi(optarg); break;
		case 'i': interval = atoi(optarg); break;
		case 'w': wait = atoi(optarg); break;
		case 'l': list = 1; break;
		case 'H': hold = atoi(optarg); break;
		case 'r': reset_each = 1; break;
		case 'h': fputs(probe_usage, stdout); return 0;
		default: fputs(probe_usage, stderr); return 2;
		}
	}
	if (list)
		return probe_list();
	if (wait >= 0)
		return probe_wait(wait);
	if (uri == NULL || loops < 1 || interval < 0 || hold < 0) {
		fputs(probe_usage, stderr);
		return 2;
	}
	return probe_loop(uri, loops, interval, hold);
}
