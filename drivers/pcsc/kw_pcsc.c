/* The PC/SC transport: one SCARDCONTEXT and one card handle per open
 * transport, a PC/SC transaction between begin and end. See kw_pcsc.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/reader.h>

#include "kw_log.h"
#include "kw_pcsc_int.h"

#define PCSC_PROTOCOLS (SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
/* Largest command we pass on: extended APDU with 64 KiB data + header. */
#define PCSC_MAX_COMMAND (65536 + 9)

typedef struct pcsc_tr {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;
	bool have_ctx;
	bool connected;
	bool gone;        /* pcscd went away under us: reopen */
	bool in_tx;       /* we hold a PC/SC transaction */
	unsigned depth;   /* nesting of begin/end */
	int lock_timeout_ms;
	char *reader;
} pcsc_tr;

static int64_t
pcsc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
pcsc_lock_timeout(void)
{
	const char *s = getenv("KEYWARD_PCSC_LOCK_TIMEOUT_MS");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return KW_PCSC_LOCK_TIMEOUT_MS;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 3600000)
		return KW_PCSC_LOCK_TIMEOUT_MS;
	return (int)v;
}

static void
pcsc_disconnect(pcsc_tr *p)
{
	if (p->connected)
		(void)SCardDisconnect(p->card, SCARD_LEAVE_CARD);
	p->connected = false;
	p->in_tx = false;
}

/* Another process held the reader past the lock timeout: the watchdog
 * disconnected our handle (releasing a transaction granted at the last
 * moment too); the next call connects again. */
static kw_rv
pcsc_held(pcsc_tr *p)
{
	kw_warn("pcsc: \"%.128s\" held by another process for %d ms", p->reader,
	    p->lock_timeout_ms);
	p->connected = false;
	p->in_tx = false;
	return KW_ERR_SHARING;
}

static LONG
call_begin(SCARDHANDLE card, void *arg)
{
	(void)arg;
	return SCardBeginTransaction(card);
}

typedef struct reconnect_arg {
	DWORD init;
	DWORD proto;
} reconnect_arg;

static LONG
call_reconnect(SCARDHANDLE card, void *arg)
{
	reconnect_arg *a = arg;

	return SCardReconnect(card, SCARD_SHARE_SHARED, PCSC_PROTOCOLS, a->init, &a->proto);
}

/* SCardReconnect (pcscd makes it wait while another process holds the
 * reader, so it is bounded too). */
static LONG
pcsc_reconnect(pcsc_tr *p, DWORD init, bool *timed_out)
{
	reconnect_arg a = { init, p->proto };
	LONG rc;

	rc = kw_pcsc_call_bounded(p->card, p->lock_timeout_ms, call_reconnect, &a, timed_out);
	if (rc == SCARD_S_SUCCESS && !*timed_out)
		p->proto = a.proto;
	return rc;
}

/* After a failed call: update the connection state and map the code. A
 * reset card is reconnected here so the next command can go through. */
static kw_rv
pcsc_fail(pcsc_tr *p, const char *what, LONG rc)
{
	kw_rv rv = kw_pcsc_rv(rc, true);
	bool timed_out;
	LONG rc2;

	kw_debug("pcsc: %s on \"%.128s\": %s", what, p->reader, kw_pcsc_code_name(rc));
	if (rv == KW_ERR_SERVICE_GONE) {
		p->gone = true;
		pcsc_disconnect(p);
	} else if (rc == SCARD_W_RESET_CARD && p->connected) {
		p->in_tx = false;
		rc2 = pcsc_reconnect(p, SCARD_LEAVE_CARD, &timed_out);
		if (timed_out) {
			(void)pcsc_held(p);
		} else if (rc2 != SCARD_S_SUCCESS) {
			kw_debug("pcsc: reconnect after reset: %s", kw_pcsc_code_name(rc2));
			pcsc_disconnect(p);
			if (kw_pcsc_rv(rc2, true) == KW_ERR_SERVICE_GONE)
				p->gone = true;
		}
	} else if (rv == KW_ERR_CARD_REMOVED || rv == KW_ERR_CARD_RESET || rv == KW_ERR_NO_CARD ||
	    rv == KW_ERR_NO_READER) {
		pcsc_disconnect(p);
	}
	return rv;
}

/* SCardTransmit codes that do not say what happened to the card. pcscd
 * answers SCARD_E_NOT_TRANSACTED whenever the reader driver failed the
 * exchange, which is what a card pulled during a command looks like (and
 * also a glitch with the card still there); the others are the driver's or
 * pcscd's "it failed" without a reason. */
static bool
pcsc_ambiguous(LONG rc)
{
	return rc == SCARD_E_NOT_TRANSACTED || rc == SCARD_W_UNRESPONSIVE_CARD ||
	    rc == SCARD_F_UNKNOWN_ERROR || rc == SCARD_F_INTERNAL_ERROR ||
	    rc == SCARD_E_UNEXPECTED || rc == SCARD_E_COMM_DATA_LOST;
}

/* Does the reader's state say the card is gone (or another one is in)? */
static bool
pcsc_state_gone(DWORD st, DWORD events0)
{
	if ((st & (SCARD_STATE_EMPTY | SCARD_STATE_UNAVAILABLE | SCARD_STATE_UNKNOWN |
	    SCARD_STATE_MUTE)) != 0 || (st & SCARD_STATE_PRESENT) == 0)
		return true;
	/* pcsc-lite counts card events in the upper 16 bits: a change means
	 * the card was pulled and put back (or replaced) meanwhile */
	return (st >> 16) != (events0 >> 16);
}

/* After an ambiguous transmit error, or an answer too short to hold a status
 * word: is the card still there? First the
 * handle's view (SCardStatus: a removal or reset pcscd already knows about),
 * then the reader's state (SCardGetStatusChange). pcscd polls readers that
 * have no interrupt endpoint (vpcd among them) every 400 ms, so right after
 * the failure it may still call a pulled card present: wait up to
 * KW_PCSC_SETTLE_MS for the state to change. Only a card still present
 * after that makes the error `if_present` (the command may or may not have
 * run; never resent above); gone -> KW_ERR_CARD_REMOVED, at once for the
 * caller, so the module reports CKR_DEVICE_REMOVED on this call. */
static kw_rv
pcsc_transmit_lost(pcsc_tr *p, const char *what, kw_rv if_present)
{
	BYTE atr[MAX_ATR_SIZE];
	DWORD rlen = 0, state = 0, proto = 0, alen = sizeof(atr), events0;
	SCARD_READERSTATE rs;
	int64_t deadline = pcsc_now_ms() + KW_PCSC_SETTLE_MS, left;
	LONG rc2;

	kw_debug("pcsc: SCardTransmit on \"%.128s\": %s: is the card still there?", p->reader,
	    what);
	rc2 = SCardStatus(p->card, NULL, &rlen, &state, &proto, atr, &alen);
	if (rc2 != SCARD_S_SUCCESS && kw_pcsc_rv(rc2, true) != KW_ERR_TRANSPORT)
		return pcsc_fail(p, "SCardStatus", rc2);
	if (rc2 == SCARD_S_SUCCESS && (state & SCARD_PRESENT) == 0)
		goto gone;
	memset(&rs, 0, sizeof(rs));
	rs.szReader = p->reader;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	if ((rc2 = SCardGetStatusChange(p->ctx, 0, &rs, 1)) != SCARD_S_SUCCESS)
		return rc2 == SCARD_E_TIMEOUT ? if_present : pcsc_fail(p,
		    "SCardGetStatusChange", rc2);
	events0 = rs.dwEventState;
	while (!pcsc_state_gone(rs.dwEventState, events0)) {
		if ((left = deadline - pcsc_now_ms()) <= 0)
			return if_present;   /* still there */
		rs.dwCurrentState = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		rc2 = SCardGetStatusChange(p->ctx, (DWORD)left, &rs, 1);
		if (rc2 == SCARD_E_TIMEOUT)
			return if_present;
		if (rc2 != SCARD_S_SUCCESS)
			return pcsc_fail(p, "SCardGetStatusChange", rc2);
	}
gone:
	kw_debug("pcsc: the card in \"%.128s\" is gone", p->reader);
	pcsc_disconnect(p);
	return KW_ERR_CARD_REMOVED;
}

static kw_rv
pcsc_ensure_connected(pcsc_tr *p)
{
	bool timed_out;
	LONG rc;

	if (p->gone)
		return KW_ERR_SERVICE_GONE;
	if (p->connected)
		return KW_OK;
	if (!p->have_ctx) {
		rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
		if (rc != SCARD_S_SUCCESS)
			return pcsc_fail(p, "SCardEstablishContext", rc);
		p->have_ctx = true;
	}
	rc = kw_pcsc_connect_bounded(p->ctx, p->reader, p->lock_timeout_ms, &p->card,
	    &p->proto, &timed_out);
	if (timed_out) {
		p->have_ctx = false;   /* a background thread owns and releases it */
		kw_warn("pcsc: \"%.128s\" held by another process for %d ms",
		    p->reader, p->lock_timeout_ms);
		return KW_ERR_SHARING;
	}
	if (rc != SCARD_S_SUCCESS)
		return pcsc_fail(p, "SCardConnect", rc);
	p->connected = true;
	p->in_tx = false;
	return KW_OK;
}

static void
pcsc_close(void *ctx)
{
	pcsc_tr *p = ctx;

	if (p == NULL)
		return;
	if (p->in_tx && !p->gone)
		(void)SCardEndTransaction(p->card, SCARD_LEAVE_CARD);
	if (!p->gone)
		pcsc_disconnect(p);
	if (p->have_ctx)
		(void)SCardReleaseContext(p->ctx);
	free(p->reader);
	free(p);
}

static kw_rv
pcsc_open(const char *rest, void **out)
{
	pcsc_tr *p;
	LONG rc;
	kw_rv rv;

	*out = NULL;
	if (rest == NULL || *rest == '\0' || strlen(rest) >= MAX_READERNAME)
		return KW_ERR_ARG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return KW_ERR_NOMEM;
	p->lock_timeout_ms = pcsc_lock_timeout();
	if ((p->reader = strdup(rest)) == NULL) {
		rv = KW_ERR_NOMEM;
		goto fail;
	}
	rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
	if (rc != SCARD_S_SUCCESS) {
		kw_debug("pcsc: SCardEstablishContext: %s", kw_pcsc_code_name(rc));
		rv = kw_pcsc_rv(rc, false);
		goto fail;
	}
	p->have_ctx = true;
	if ((rv = pcsc_ensure_connected(p)) != KW_OK)
		goto fail;
	*out = p;
	return KW_OK;
fail:
	pcsc_close(p);
	return rv;
}

static kw_rv
pcsc_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
    size_t *resp_len)
{
	pcsc_tr *p = ctx;
	const SCARD_IO_REQUEST *pci;
	DWORD rlen;
	LONG rc;
	kw_rv rv;

	if (cmd == NULL || cmd_len < 4 || cmd_len > PCSC_MAX_COMMAND || resp == NULL ||
	    *resp_len < 2)
		return KW_ERR_ARG;
	if ((rv = pcsc_ensure_connected(p)) != KW_OK)
		return rv;
	pci = p->proto == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
	rlen = *resp_len > KW_MAX_RESPONSE ? KW_MAX_RESPONSE : (DWORD)*resp_len;
	rc = SCardTransmit(p->card, pci, cmd, (DWORD)cmd_len, NULL, resp, &rlen);
	if (rc != SCARD_S_SUCCESS && pcsc_ambiguous(rc))
		return pcsc_transmit_lost(p, kw_pcsc_code_name(rc), KW_ERR_TRANSPORT);
	if (rc != SCARD_S_SUCCESS)
		return pcsc_fail(p, "SCardTransmit", rc);
	if (rlen > *resp_len)
		return KW_ERR_PROTOCOL;
	if (rlen < 2)   /* no status word: vpcd's answer when the card vanished */
		return pcsc_transmit_lost(p, "answer without a status word", KW_ERR_PROTOCOL);
	*resp_len = rlen;
	return KW_OK;
}

static kw_rv
pcsc_status(pcsc_tr *p, uint8_t *atr, size_t *atr_len)
{
	BYTE buf[MAX_ATR_SIZE];
	DWORD rlen = 0, state = 0, proto = 0, alen = sizeof(buf);
	LONG rc;
	kw_rv rv;

	if ((rv = pcsc_ensure_connected(p)) != KW_OK)
		return rv;
	rc = SCardStatus(p->card, NULL, &rlen, &state, &proto, buf, &alen);
	if (rc != SCARD_S_SUCCESS)
		return pcsc_fail(p, "SCardStatus", rc);
	if ((state & SCARD_PRESENT) == 0) {
		pcsc_disconnect(p);
		return KW_ERR_CARD_REMOVED;
	}
	if (atr == NULL)
		return KW_OK;
	if (alen > sizeof(buf) || alen > *atr_len)
		return KW_ERR_RANGE;
	memcpy(atr, buf, alen);
	*atr_len = alen;
	return KW_OK;
}

static kw_rv
pcsc_get_atr(void *ctx, uint8_t *atr, size_t *atr_len)
{
	if (atr == NULL || atr_len == NULL)
		return KW_ERR_ARG;
	return pcsc_status(ctx, atr, atr_len);
}

static kw_rv
pcsc_present(void *ctx)
{
	return pcsc_status(ctx, NULL, NULL);
}

static kw_rv
pcsc_reset(void *ctx)
{
	pcsc_tr *p = ctx;
	bool timed_out;
	LONG rc;
	kw_rv rv;

	if ((rv = pcsc_ensure_connected(p)) != KW_OK)
		return rv;
	rc = pcsc_reconnect(p, SCARD_RESET_CARD, &timed_out);
	if (timed_out)
		return pcsc_held(p);
	if (rc != SCARD_S_SUCCESS)
		return pcsc_fail(p, "SCardReconnect", rc);
	return KW_OK;
}

/* SCardBeginTransaction without a thread when nobody holds the reader.
 * pcsc-lite's client retries a held reader's SCardBeginTransaction (and
 * SCardStatus, SCardTransmit, SCardReconnect) forever; SCardGetAttrib is
 * not retried and pcscd answers it SCARD_E_SHARING_VIOLATION at once while
 * another handle holds a transaction (its other errors, e.g. an attribute
 * the driver lacks, come after that check and mean "not held"). Only a
 * held reader costs the bounded helper's watchdog thread. A transaction
 * taken by someone else between the two calls makes us wait for it like
 * any other PC/SC client would. */
static LONG
pcsc_begin_call(pcsc_tr *p, bool *timed_out)
{
	BYTE atr[MAX_ATR_SIZE];
	DWORD alen = sizeof(atr);
	LONG rc;

	*timed_out = false;
	rc = SCardGetAttrib(p->card, SCARD_ATTR_ATR_STRING, atr, &alen);
	if (rc == SCARD_W_RESET_CARD || rc == SCARD_W_REMOVED_CARD ||
	    kw_pcsc_rv(rc, true) == KW_ERR_SERVICE_GONE)
		return rc;
	if (rc != SCARD_E_SHARING_VIOLATION)
		return SCardBeginTransaction(p->card);
	return kw_pcsc_call_bounded(p->card, p->lock_timeout_ms, call_begin, NULL, timed_out);
}

static kw_rv
pcsc_begin(void *ctx)
{
	pcsc_tr *p = ctx;
	bool timed_out;
	LONG rc;
	kw_rv rv;

	if (p->gone)
		return KW_ERR_SERVICE_GONE;
	if (p->depth > 0 && p->in_tx) {
		p->depth++;
		return KW_OK;
	}
	if ((rv = pcsc_ensure_connected(p)) != KW_OK)
		return rv;
	rc = pcsc_begin_call(p, &timed_out);
	if (timed_out)
		return pcsc_held(p);
	if (rc != SCARD_S_SUCCESS)
		return pcsc_fail(p, "SCardBeginTransaction", rc);
	/* depth may be > 0 here: an outer transaction was lost to a removal
	 * or a reset and this begin takes a new one. */
	p->in_tx = true;
	p->depth++;
	return KW_OK;
}

static kw_rv
pcsc_end(void *ctx)
{
	pcsc_tr *p = ctx;
	LONG rc;

	if (p->depth == 0)
		return KW_OK;
	if (--p->depth > 0)
		return KW_OK;
	if (!p->in_tx || !p->connected || p->gone) {
		p->in_tx = false;
		return KW_OK;
	}
	p->in_tx = false;
	rc = SCardEndTransaction(p->card, SCARD_LEAVE_CARD);
	if (rc != SCARD_S_SUCCESS && rc != SCARD_E_NOT_TRANSACTED)
		return pcsc_fail(p, "SCardEndTransaction", rc);
	return KW_OK;
}

const kw_transport_ops kw_pcsc_ops = {
	.scheme = "pcsc",
	.flags = KW_TRANSPORT_EXTENDED,
	.list = kw_pcsc_list_cards,
	.open = pcsc_open,
	.close = pcsc_close,
	.transmit = pcsc_transmit,
	.get_atr = pcsc_get_atr,
	.reset = pcsc_reset,
	.begin = pcsc_begin,
	.end = pcsc_end,
	.channel = NULL,
	.present = pcsc_present,
	.list_slots = kw_pcsc_list_slots,
	.monitor_new = kw_pcsc_op_monitor_new,
	.monitor_wait = kw_pcsc_op_monitor_wait,
	.monitor_cancel = kw_pcsc_op_monitor_cancel,
	.monitor_free = kw_pcsc_op_monitor_free,
};
