/* A fake pcsc-lite (the SCard* functions the driver calls), compiled into
 * tests/unit/test_pcsc instead of libpcsclite: readers, cards, a service
 * that can stop or restart, other processes holding or resetting a card. */
#ifndef TEST_PCSC_FAKE_H
#define TEST_PCSC_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <PCSC/winscard.h>

#define FAKE_MAX_READERS 8

typedef struct fake_counters {
	unsigned establish, release, connect, reconnect, disconnect;
	unsigned begin, end, transmit, status, list, cancel, getattrib;
	DWORD last_reconnect_init;        /* SCARD_LEAVE_CARD / SCARD_RESET_CARD */
	const SCARD_IO_REQUEST *last_pci;
	uint8_t last_cmd[300];
	size_t last_cmd_len;
} fake_counters;

void fake_init(void);                        /* everything back to defaults */
int fake_add_reader(const char *name, bool card);
void fake_remove_reader(int r);
void fake_set_card(int r, bool present);     /* insert / remove */
void fake_reset_by_other(int r);             /* another process reset the card */
void fake_set_locked_by_other(bool locked);  /* another process's transaction */
void fake_set_service(bool up);              /* pcscd running or not */
void fake_restart_service(void);             /* old contexts/handles die */
void fake_set_proto(DWORD proto);
/* Response to the next transmits (hex, with SW); default "9000". */
void fake_set_response(const char *hex);
void fake_set_transmit_rc(LONG rc);          /* fail the next transmit */
/* The card in reader r is pulled during the next transmit: it fails with
 * SCARD_E_NOT_TRANSACTED, and the reader reports the card gone only lag_ms
 * later (pcscd polls presence); until then SCardStatus says present. */
void fake_pull_in_transmit(int r, unsigned lag_ms);
/* A reader appears between the sizing and the filling SCardListReaders. */
void fake_grow_during_list(const char *name);
fake_counters *fake_get(void);
int fake_open_objects(void);                 /* contexts + card handles alive */

/* Threads started by the code under test since the program began. */
unsigned fake_threads_created(void);

#endif
