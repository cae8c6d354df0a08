/* Fuzz target: keyward's BLE frame reassembly (drivers/ble/kw_ble_frame.c).
 *
 * Input: two bytes choose the fragment size (20..512), then frames, each
 * a length byte followed by that many bytes (lengths up to 255 + the two
 * size bytes allow overlong frames). Every complete message is fragmented
 * again and must reassemble to the same bytes.
 *
 * Built with -fsanitize=fuzzer it is a libFuzzer target (`make fuzz-ble`);
 * built with -DKW_FUZZ_REPLAY it is a plain program that replays the files
 * given as arguments, or without arguments runs a fixed number of
 * deterministic pseudo-random inputs (a smoke run for `make check`). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble/kw_ble_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_roundtrip(const kw_ble_rx *rx)
{
	kw_ble_tx tx;
	kw_ble_rx again;
	uint8_t frame[KW_BLE_FRAG_MAX];
	size_t n;
	bool complete = false;

	if (kw_ble_tx_init(&tx, rx->cmd, rx->msg.data, rx->msg.len, rx->frag) != KW_OK)
		abort();
	kw_ble_rx_init(&again, rx->frag);
	while (!kw_ble_tx_done(&tx)) {
		if (kw_ble_tx_next(&tx, frame, sizeof(frame), &n) != KW_OK || complete ||
		    kw_ble_rx_feed(&again, frame, n, &complete) != KW_OK)
			abort();
	}
	if (!complete || again.cmd != rx->cmd || again.msg.len != rx->msg.len ||
	    (rx->msg.len > 0 && memcmp(again.msg.data, rx->msg.data, rx->msg.len) != 0))
		abort();
	kw_ble_rx_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kw_ble_rx rx;
	size_t frag, n;
	bool complete;
	kw_rv rv;

	if (size < 2)
		return 0;
	frag = KW_BLE_FRAG_MIN + (((size_t)data[0] << 8) | data[1]) %
	    (KW_BLE_FRAG_MAX - KW_BLE_FRAG_MIN + 1);
	data += 2;
	size -= 2;
	kw_ble_rx_init(&rx, frag);
	while (size > 0) {
		n = data[0];
		data++;
		size--;
		if (n > size)
			n = size;
		rv = kw_ble_rx_feed(&rx, data, n, &complete);
		if (rv != KW_OK && (rx.busy || rx.complete || rx.msg.len != 0))
			abort();             /* errors must leave the reassembler reset */
		if (rv == KW_OK && complete) {
			if (rx.msg.len != rx.want)
				abort();
			check_roundtrip(&rx);
			kw_ble_rx_reset(&rx);
		}
		data += n;
		size -= n;
	}
	kw_ble_rx_free(&rx);
	return 0;
}

#ifdef KW_FUZZ_REPLAY
static int
replay_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	(void)LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

/* Deterministic inputs that often look like valid frame streams. */
static void
smoke(unsigned rounds)
{
	static uint8_t buf[8192];
	uint32_t x = 0x2545F491u;
	unsigned r;
	size_t i, n, pos, flen;

	for (r = 0; r < rounds; r++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		n = 2 + x % (sizeof(buf) - 2);
		for (i = 0; i < n; i++) {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			buf[i] = (uint8_t)x;
		}
		/* frag 20, and a plausible INIT frame at the start half the time */
		buf[0] = 0;
		buf[1] = (uint8_t)(r % 8);
		if (r % 2 == 0 && n > 6) {
			flen = 20 + r % 8;
			buf[2] = (uint8_t)flen;
			buf[3] = KW_BLE_CMD_MSG;
			buf[4] = 0;
			buf[5] = (uint8_t)(r % 64);
			for (pos = 2 + 1 + flen, i = 0; pos + 1 < n; pos += 1 + flen, i++) {
				buf[pos] = (uint8_t)flen;
				buf[pos + 1] = (uint8_t)(i & 0x7F);
			}
		}
		(void)LLVMFuzzerTestOneInput(buf, n);
	}
}

int
main(int argc, char **argv)
{
	int i, rc = 0;

	if (argc < 2) {
		smoke(20000);
		printf("fuzz_ble_frames: 20000 generated inputs, no failure\n");
		return 0;
	}
	for (i = 1; i < argc; i++)
		rc |= replay_file(argv[i]);
	return rc;
}
#endif
