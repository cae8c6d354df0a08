/* Fuzz target: the SIM transports, which read what a UICC and a cellular
 * modem answer (drivers/uicc/kw_uicc.c, drivers/atmodem/kw_atmodem.c,
 * kw_atmodem_port.c, kw_at.c).
 *
 *   UICC (mode bit 0 clear): "uicc:fz:" over an inner transport whose
 *   answers come from the input: per command a kind byte (0: the next
 *   chunk is the answer, 1: card removed, 2: card reset, 3: I/O error)
 *   and a chunk8 answer. MANAGE CHANNEL, the PIV client's SELECT and GET
 *   DATA and raw APDUs on any channel go through it; resets and reopening
 *   after a removal come from the steps.
 *
 *   AT modem (mode bit 0 set): "at:<pty>" on a pseudo-terminal whose other
 *   side is a thread of this harness: for every command line the
 *   transport writes, it writes back the next chunk of the input (any
 *   bytes: replies, URCs, echoes, garbage, overlong lines, lines split
 *   across writes); when the input ends it hangs up (the port vanishes).
 *   The transport is opened (ATE0, AT+CMEE, AT+CCHO or the +CSIM fallback),
 *   used for APDUs and closed (AT+CCHC).
 *
 * Input: mode byte, a chunk8 of step bytes, then the answer stream.
 * Checks: nothing crashes, hangs, leaks or reads out of bounds; a
 * transport answer that is KW_OK has a status word and fits the buffer;
 * the channel a transport reports is 0-19. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "atmodem/kw_atmodem.h"
#include "fuzz_util.h"
#include "kw_apdu.h"
#include "kw_piv.h"
#include "uicc/kw_uicc.h"

#define MODEM_MAX_STEPS 12

/* ---- the UICC's inner transport ---------------------------------------- */

static fz_in answers;

static kw_rv
fz_open(const char *rest, void **ctx)
{
	(void)rest;
	*ctx = &answers;
	return KW_OK;
}

static void
fz_close(void *ctx)
{
	(void)ctx;
}

static kw_rv
fz_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	fz_in *in = ctx;
	kw_view v;

	(void)cmd;
	(void)cmd_len;
	if (in->n == 0)
		return KW_ERR_CARD_REMOVED;
	switch (fz_u8(in) % 4) {
	case 1: return KW_ERR_CARD_REMOVED;
	case 2: return KW_ERR_CARD_RESET;
	case 3: return KW_ERR_IO;
	default: break;
	}
	v = fz_chunk8(in);
	if (v.len > *resp_len)
		return KW_ERR_RANGE;
	if (v.len > 0)
		memcpy(resp, v.ptr, v.len);
	*resp_len = v.len;
	return KW_OK;
}

static kw_rv
fz_reset(void *ctx)
{
	(void)ctx;
	return KW_OK;
}

static const kw_transport_ops fz_ops = {
	.scheme = "fz", .open = fz_open, .close = fz_close, .transmit = fz_transmit,
	.reset = fz_reset,
};

/* This target's registry: the two SIM transports and the inner one. */
const kw_transport_ops *const kw_builtin_transports[] = {
	&fz_ops, &kw_uicc_ops, &kw_atmodem_ops, NULL,
};

/* ---- steps, common to both transports ------------------------------------ */

static void
check_answer(kw_rv rv, size_t len, size_t cap)
{
	if (rv == KW_OK && (len < 2 || len > cap))
		abort();
}

static void
run_steps(kw_transport *t, fz_in *steps)
{
	static const uint8_t get_data[] = {
		0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x02, 0x00,
	};
	uint8_t cmd[64], resp[KW_MAX_RESPONSE];
	kw_piv *p = NULL;
	unsigned n = 0;
	size_t len;
	int ch;

	while (steps->n > 0 && n++ < MODEM_MAX_STEPS) {
		uint8_t op = fz_u8(steps);

		ch = kw_transport_channel(t);
		if (ch < 0 || ch > 19)
			abort();
		switch (op % 5) {
		case 0:
			if (p == NULL && kw_piv_new(t, &p) != KW_OK)
				break;
			(void)kw_piv_select(p);
			break;
		case 1:   /* GET DATA as is (CLA of channel 0: re-encoded) */
			memcpy(cmd, get_data, sizeof(get_data));
			cmd[0] = (uint8_t)(op & 0xF0);
			len = sizeof(resp);
			check_answer(kw_transport_transmit(t, cmd, sizeof(get_data), resp, &len),
			    len, sizeof(resp));
			break;
		case 2: { /* an APDU through kw_apdu on the transport's channel */
			kw_apdu a;
			kw_buf out;
			uint16_t sw;

			memset(&a, 0, sizeof(a));
			a.cla = 0x00;
			a.ins = 0xCB;
			a.p1 = 0x3F;
			a.p2 = 0xFF;
			a.data = get_data + 5;
			a.data_len = 5;
			a.le = 256;
			kw_buf_init(&out, KW_MAX_RESPONSE);
			(void)kw_apdu_transmit(t, &a, &out, &sw);
			kw_buf_free(&out);
			break;
		}
		case 3:
			(void)kw_transport_reset(t);
			break;
		default:
			(void)kw_transport_present(t);
			break;
		}
	}
	kw_piv_free(&p);
}

/* ---- the AT modem on a pseudo-terminal ---------------------------------- */

typedef struct modem {
	int master;
	fz_in in;
	pthread_t th;
} modem;

/* Read what the transport writes; after each CR, send the next chunk.
 * The thread owns the master side: closing it is the hang-up (when the
 * input ends), and a read error means the transport closed the port. */
static void *
modem_main(void *arg)
{
	modem *m = arg;
	struct pollfd pfd = { m->master, POLLIN, 0 };
	uint8_t buf[1024];
	ssize_t r, i;

	for (;;) {
		if (poll(&pfd, 1, 2000) <= 0)
			break;
		if ((r = read(m->master, buf, sizeof(buf))) <= 0)
			break;
		for (i = 0; i < r; i++) {
			kw_view v;

			if (buf[i] != '\r')
				continue;
			if (m->in.n == 0)
				goto hangup;
			v = fz_chunk(&m->in);
			if (v.len > 0 && write(m->master, v.ptr, v.len) < 0)
				goto hangup;
		}
	}
hangup:
	close(m->master);
	return NULL;
}

static void
fuzz_modem(fz_in *steps, fz_in stream)
{
	char path[128], uri[160];
	kw_transport *t = NULL;
	int slave = -1;
	modem m;
	kw_rv rv;

	memset(&m, 0, sizeof(m));
	if (openpty(&m.master, &slave, path, NULL, NULL) != 0)
		return;
	m.in = stream;
	snprintf(uri, sizeof(uri), "at:%s", path);
	if (pthread_create(&m.th, NULL, modem_main, &m) != 0) {
		close(m.master);
		close(slave);
		return;
	}
	/* our slave descriptor keeps the terminal up until the transport has
	 * its own */
	rv = kw_transport_open(uri, &t);
	close(slave);
	if (rv == KW_OK) {
		run_steps(t, steps);
		kw_transport_free(&t);
	}
	pthread_join(m.th, NULL);
}

static char lockdir[64];

static void
lockdir_remove(void)
{
	(void)rmdir(lockdir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(lockdir, sizeof(lockdir), "/tmp/kw-fuzz-modem-XXXXXX");
	if (mkdtemp(lockdir) == NULL)
		abort();
	atexit(lockdir_remove);
	setenv("KEYWARD_LOCK_DIR", lockdir, 1);
	/* the shortest bound the transport takes: a silent modem costs 100 ms */
	setenv("KEYWARD_MODEM_TIMEOUT_MS", "100", 1);
	setenv("KEYWARD_CONF", "/dev/null", 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size), steps;
	uint8_t mode = fz_u8(&in);
	kw_view sv = fz_chunk8(&in);
	kw_transport *t = NULL;

	steps = fz_make(sv.ptr, sv.len);
	if (mode & 1) {
		fuzz_modem(&steps, in);
		return 0;
	}
	answers = in;
	if (kw_transport_open("uicc:fz:card", &t) == KW_OK) {
		run_steps(t, &steps);
		kw_transport_free(&t);
	}
	answers = fz_make(NULL, 0);
	return 0;
}
