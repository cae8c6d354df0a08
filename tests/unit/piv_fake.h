/* Test helpers for the PIV unit tests: a mock transport with a card-like
 * handler that reassembles chained commands, answers through a per-test
 * callback and hands long answers out in 61xx pieces (written for these
 * tests from ISO 7816-4; independent of tools/vcard). */
#ifndef PIV_FAKE_H
#define PIV_FAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kw_buf.h"
#include "kw_mock.h"
#include "kw_piv.h"

/* The whole logical command: header and reassembled data. */
typedef struct fake_cmd {
	uint8_t cla, ins, p1, p2;
	kw_view data;
	bool has_le;
} fake_cmd;

/* Fill resp with data and return the SW. */
typedef uint16_t (*fake_answer)(void *arg, const fake_cmd *cmd, kw_buf *resp);

typedef struct fake_card {
	fake_answer answer;
	void *arg;
	size_t chunk;        /* answer data per APDU before 61xx (default 256) */
	kw_buf chain;        /* data of chained links so far */
	uint8_t chain_hdr[4];
	bool chaining;
	kw_buf pending;      /* answer data not yet fetched with GET RESPONSE */
	unsigned apdus, links, get_responses;
	bool track_tx;       /* open with begin/end that count transactions */
} fake_card;

/* With track_tx: transactions begun, current depth, and APDUs that were
 * sent outside any transaction. */
extern unsigned fake_tx_begins, fake_tx_depth, fake_tx_outside;

/* Open a mock transport + kw_piv. With card != NULL the mock answers through
 * it; otherwise the test scripts the mock with kw_mock_expect. */
void fake_open(fake_card *card, kw_transport **t, kw_piv **p);
/* Check that the script was consumed without mismatches, free all. */
void fake_close(fake_card *card, kw_transport **t, kw_piv **p);

/* Script helpers: expect cmd_hex -> resp_hex. */
void fake_expect(kw_transport *t, const char *cmd_hex, const char *resp_hex);
/* Same with the command given as bytes (hex-encoded here). */
void fake_expect_bytes(kw_transport *t, const kw_buf *cmd, const char *resp_hex);

void assert_view_hex(kw_view v, const char *hex);
/* Decode hex into a fresh buffer (test data). */
void hex_buf(kw_buf *b, const char *hex);
/* Bytes to hex in a malloc'd string. */
char *hex_of(const uint8_t *p, size_t n);

/* Capture kw_log output (TRACE) until log_capture_end; returns the text. */
void log_capture_begin(void);
char *log_capture_end(void);

#endif
