/* The PC/SC transport: one SCARDCONTEXT and one card handle per open
 * transport, a PC/SC transaction between begin and end. See kw_pcsc.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* After a failed call: update the connection state and map the code. A
 * reset card is reconnected here so the next command can go through. */
static kw_rv
pcsc_fail(pcsc_tr *p, const char *what, LONG rc)
{
	kw_rv rv = kw_pcsc_rv(rc, true);
	LONG rc2;

	kw_debug("pcsc: %s on \"%.128s\": %s", what, p->reader, kw_pcsc_code_name(rc));
	if (rv == KW_ERR_SERVICE_GONE) {
		p->gone = true;
		pcsc_disconnect(p);
	} else if (rc == SCARD_W_RESET_CARD && p->connected) {
		p->in_tx = false;
		rc2 = SCardReconnect(p->card, SCARD_SHARE_SHARED, PCSC_PROTOCOLS,
		    SCARD_LEAVE_CARD, &p->proto);
		if (rc2 != SCARD_S_SUCCESS) {
			kw_debug("pcsc: reconnect after reset: %s", kw_pcsc_code_name(rc2));
			pcsc_disconnect(p);
			if (kw_pcsc_rv(rc2, true) == KW_ERR_SERVICE_GONE)
				p->gone = true;
		}
	} else if (rv == KW_ERR_CARD_REMOVED || rv == KW_ERR_NO_CARD ||
	    rv == KW_ERR_NO_READER) {
		pcsc_disconnect(p);
	}
	return rv;
}

static void
deadline_ms(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static kw_rv
sync_init(pthread_mutex_t *mu, pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	kw_rv rv = KW_ERR_NOMEM;

	if (pthread_condattr_init(&ca) != 0)
		return rv;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(cv, &ca) == 0) {
		if (pthread_mutex_init(mu, NULL) == 0)
			rv = KW_OK;
		else
			pthread_cond_destroy(cv);
	}
	pthread_condattr_destroy(&ca);
	return rv;
}

/* pcscd makes SCardConnect wait for as long as another process holds a
 * transaction on the reader. The call runs in a thread; past the lock
 * timeout the thread is abandoned with the context it uses (it disconnects
 * and releases both when pcscd finally answers) and the transport goes on
 * with a new context. */
typedef struct connect_job {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	bool done, abandoned;
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;
	LONG rc;
	char reader[MAX_READERNAME];
} connect_job;

static void
job_unref(connect_job *j)
{
	bool last;

	pthread_mutex_lock(&j->mu);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (!last)
		return;
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static void *
connect_main(void *arg)
{
	connect_job *j = arg;
	SCARDHANDLE card = 0;
	DWORD proto = 0;
	bool abandoned;
	LONG rc;

	rc = SCardConnect(j->ctx, j->reader, SCARD_SHARE_SHARED, PCSC_PROTOCOLS,
	    &card, &proto);
	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->card = card;
	j->proto = proto;
	j->done = true;
	abandoned = j->abandoned;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	if (abandoned) {
		if (rc == SCARD_S_SUCCESS)
			(void)SCardDisconnect(card, SCARD_LEAVE_CARD);
		(void)SCardReleaseContext(j->ctx);
	}
	job_unref(j);
	return NULL;
}

/* Wait for the job; false if it timed out (then it is abandoned). */
static bool
job_wait(connect_job *j, int timeout_ms)
{
	struct timespec ts;
	bool done;

	deadline_ms(&ts, timeout_ms);
	pthread_mutex_lock(&j->mu);
	while (!j->done)
		if (pthread_cond_timedwait(&j->cv, &j->mu, &ts) == ETIMEDOUT)
			break;
	done = j->done;
	j->abandoned = !done;
	pthread_mutex_unlock(&j->mu);
	return done;
}

static LONG
pcsc_connect_bounded(pcsc_tr *p, bool *timed_out)
{
	pthread_attr_t attr;
	connect_job *j;
	pthread_t th;
	LONG rc;
	int err;

	*timed_out = false;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return SCARD_E_NO_MEMORY;
	if (sync_init(&j->mu, &j->cv) != KW_OK) {
		free(j);
		return SCARD_E_NO_MEMORY;
	}
	j->refs = 2;
	j->ctx = p->ctx;
	snprintf(j->reader, sizeof(j->reader), "%s", p->reader);
	err = pthread_attr_init(&attr);
	if (err == 0) {
		(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		err = pthread_create(&th, &attr, connect_main, j);
		pthread_attr_destroy(&attr);
	}
	if (err != 0) {
		j->refs = 1;
		job_unref(j);
		return SCARD_E_NO_MEMORY;
	}
	if (!job_wait(j, p->lock_timeout_ms)) {
		*timed_out = true;
		p->have_ctx = false;   /* the thread owns and releases it */
		job_unref(j);
		return SCARD_E_SHARING_VIOLATION;
	}
	rc = j->rc;
	p->card = j->card;
	p->proto = j->proto;
	job_unref(j);
	return rc;
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
	rc = pcsc_connect_bounded(p, &timed_out);
	if (timed_out) {
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
	if (rc != SCARD_S_SUCCESS)
		return pcsc_fail(p, "SCardTransmit", rc);
	if (rlen < 2 || rlen > *resp_len)
		return KW_ERR_PROTOCOL;
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
	LONG rc;
	kw_rv rv;

	if ((rv = pcsc_ensure_connected(p)) != KW_OK)
		return rv;
	rc = SCardReconnect(p->card, SCARD_SHARE_SHARED, PCSC_PROTOCOLS,
	    SCARD_RESET_CARD, &p->proto);
	if (rc != SCARD_S_SUCCESS)
		return pcsc_fail(p, "SCardReconnect", rc);
	return KW_OK;
}

/* SCardBeginTransaction polls for as long as another process holds the
 * reader. A watchdog thread bounds that: on expiry it disconnects our
 * handle, which makes the pending call return. */
typedef struct begin_watch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done, fired;
	SCARDHANDLE card;
	int timeout_ms;
} begin_watch;

static void *
watch_main(void *arg)
{
	begin_watch *w = arg;
	struct timespec ts;
	bool fire = false;

	deadline_ms(&ts, w->timeout_ms);
	pthread_mutex_lock(&w->mu);
	while (!w->done && !fire)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
			fire = !w->done;
	w->fired = fire;
	pthread_mutex_unlock(&w->mu);
	if (fire)
		(void)SCardDisconnect(w->card, SCARD_LEAVE_CARD);
	return NULL;
}

static kw_rv
watch_init(begin_watch *w, SCARDHANDLE card, int timeout_ms)
{
	memset(w, 0, sizeof(*w));
	w->card = card;
	w->timeout_ms = timeout_ms;
	return sync_init(&w->mu, &w->cv);
}

static LONG
pcsc_begin_bounded(pcsc_tr *p, bool *timed_out)
{
	begin_watch w;
	pthread_t th;
	LONG rc;

	*timed_out = false;
	if (watch_init(&w, p->card, p->lock_timeout_ms) != KW_OK)
		return SCARD_E_NO_MEMORY;
	if (pthread_create(&th, NULL, watch_main, &w) != 0) {
		rc = SCARD_E_NO_MEMORY;
		goto out;
	}
	rc = SCardBeginTransaction(p->card);
	pthread_mutex_lock(&w.mu);
	w.done = true;
	pthread_cond_signal(&w.cv);
	pthread_mutex_unlock(&w.mu);
	pthread_join(th, NULL);
	*timed_out = w.fired;
out:
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return rc;
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
	rc = pcsc_begin_bounded(p, &timed_out);
	if (timed_out) {
		/* The watchdog disconnected the handle (which also releases a
		 * transaction granted at the last moment). */
		kw_warn("pcsc: \"%.128s\" held by another process for %d ms",
		    p->reader, p->lock_timeout_ms);
		p->connected = false;
		p->in_tx = false;
		return KW_ERR_SHARING;
	}
	if (rc != SCARD_S_SUCCESS)
		return pcsc_fail(p, "SCardBeginTransaction", rc);
	p->in_tx = true;
	p->depth = 1;
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
};
