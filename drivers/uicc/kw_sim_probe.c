/* kw-sim-probe: sends APDUs through any keyward transport for the SIM
 * integration tests (tests/integration/test_sim_*.sh). Not installed.
 * Each step is a hex APDU (its CLA moved to the transport's logical
 * channel), "sleep:MS" or "wait:FILE"; each response is printed as hex on
 * one line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kw_apdu.h"
#include "kw_log.h"
#include "kw_transport.h"

static const char usage[] =
    "Usage: kw-sim-probe --uri URI STEP...\n"
    "STEP: a command APDU in hex (its class byte gets the transport's logical\n"
    "channel), sleep:MS, or wait:FILE (until FILE exists, at most 2 minutes).\n"
    "Prints each response (data and SW) in hex, one per line, or \"ERR <error>\"\n"
    "for a transport error (named on stderr) and goes on; exit 1 if any failed.\n";

static int
step_sleep(const char *s)
{
	long ms = strtol(s, NULL, 10);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms < 0 || ms > 600000)
		return -1;
	nanosleep(&ts, NULL);
	return 0;
}

/* Wait (at most two minutes) until a file exists. */
static int
step_wait(const char *path)
{
	struct timespec ts = { 0, 50 * 1000000L };
	int i;

	for (i = 0; i < 2400; i++) {
		if (access(path, F_OK) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "kw-sim-probe: %s did not appear\n", path);
	return -1;
}

static int
step_apdu(kw_transport *t, const char *hex)
{
	uint8_t resp[KW_MAX_RESPONSE];
	char out[2 * 600 + 1];
	size_t n = sizeof(resp);
	kw_buf cmd;
	kw_rv rv;
	int st = -1;

	kw_buf_init(&cmd, 0);
	if (kw_hex_decode(hex, &cmd) != KW_OK || cmd.len < 4) {
		fprintf(stderr, "kw-sim-probe: bad APDU '%.64s'\n", hex);
		goto done;
	}
	if (kw_transport_channel(t) != 0 &&
	    kw_apdu_cla_for_channel(cmd.data[0], kw_transport_channel(t), &cmd.data[0]) != KW_OK) {
		fprintf(stderr, "kw-sim-probe: class byte %02X\n", cmd.data[0]);
		goto done;
	}
	if ((rv = kw_transport_transmit(t, cmd.data, cmd.len, resp, &n)) != KW_OK) {
		fprintf(stderr, "kw-sim-probe: %s\n", kw_strerror(rv));
		printf("ERR %s\n", kw_strerror(rv));   /* go on: the next step may recover */
		fflush(stdout);
		goto done;
	}
	if (n > 600)
		n = 600;
	(void)kw_hex_encode(resp, n, out, sizeof(out));
	printf("%s\n", out);
	fflush(stdout);
	st = 0;
done:
	kw_buf_free(&cmd);
	return st;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "uri", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *uri = NULL;
	kw_transport *t = NULL;
	kw_rv rv;
	int ch, i, st = 0;

	kw_log_init(-1);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'u') {
			uri = optarg;
		} else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? 0 : 2;
		}
	}
	if (uri == NULL) {
		fputs(usage, stderr);
		return 2;
	}
	if ((rv = kw_transport_open(uri, &t)) != KW_OK) {
		fprintf(stderr, "kw-sim-probe: %s: %s\n", uri, kw_strerror(rv));
		return 1;
	}
	for (i = optind; i < argc; i++)
		if ((strncmp(argv[i], "sleep:", 6) == 0 ? step_sleep(argv[i] + 6) :
		    strncmp(argv[i], "wait:", 5) == 0 ? step_wait(argv[i] + 5) :
		    step_apdu(t, argv[i])) != 0)
			st = 1;
	kw_transport_free(&t);
	return st == 0 ? 0 : 1;
}
