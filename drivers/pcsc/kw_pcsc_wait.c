/* Bounded waits around the PC/SC calls that pcscd makes wait while another
 * process holds a transaction on the reader (see kw_pcsc_int.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kw_pcsc_int.h"

#define PCSC_PROTOCOLS (SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)

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

static bool
sync_init(pthread_mutex_t *mu, pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	bool ok = false;

	if (pthread_condattr_init(&ca) != 0)
		return false;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(cv, &ca) == 0) {
		if (pthread_mutex_init(mu, NULL) == 0)
			ok = true;
		else
			pthread_cond_destroy(cv);
	}
	pthread_condattr_destroy(&ca);
	return ok;
}

/* ---- SCardConnect in an abandonable thread ---- */

typedef struct connect_job {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;                /* the caller and the thread */
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

/* Wait for the job; false if it timed out (it is then abandoned). */
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

static bool
job_start(connect_job *j)
{
	pthread_attr_t attr;
	pthread_t th;
	int err;

	if (pthread_attr_init(&attr) != 0)
		return false;
	err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (err == 0)
		err = pthread_create(&th, &attr, connect_main, j);
	pthread_attr_destroy(&attr);
	return err == 0;
}

LONG
kw_pcsc_connect_bounded(SCARDCONTEXT ctx, const char *reader, int timeout_ms,
    SCARDHANDLE *card, DWORD *proto, bool *timed_out)
{
	connect_job *j;
	LONG rc;

	*timed_out = false;
	if (strlen(reader) >= MAX_READERNAME)
		return SCARD_E_UNKNOWN_READER;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return SCARD_E_NO_MEMORY;
	if (!sync_init(&j->mu, &j->cv)) {
		free(j);
		return SCARD_E_NO_MEMORY;
	}
	j->refs = 2;
	j->ctx = ctx;
	snprintf(j->reader, sizeof(j->reader), "%s", reader);
	if (!job_start(j)) {
		j->refs = 1;
		job_unref(j);
		return SCARD_E_NO_MEMORY;
	}
	if (!job_wait(j, timeout_ms)) {
		*timed_out = true;
		job_unref(j);
		return SCARD_E_SHARING_VIOLATION;
	}
	rc = j->rc;
	*card = j->card;
	*proto = j->proto;
	job_unref(j);
	return rc;
}

/* ---- a call on a card handle under a watchdog ---- */

typedef struct watch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done, fired;
	SCARDHANDLE card;
	int timeout_ms;
} watch;

static void *
watch_main(void *arg)
{
	watch *w = arg;
	struct timespec ts;
	bool fire = false;

	deadline_ms(&ts, w->timeout_ms);
	pthread_mutex_lock(&w->mu);
	while (!w->done && !fire)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
			fire = !w->done;
	w->fired = fire;
	pthread_mutex_unlock(&w->mu);
	/* Disconnecting makes pcsc-lite's polling call return. */
	if (fire)
		(void)SCardDisconnect(w->card, SCARD_LEAVE_CARD);
	return NULL;
}

LONG
kw_pcsc_call_bounded(SCARDHANDLE card, int timeout_ms, kw_pcsc_card_fn fn, void *arg,
    bool *timed_out)
{
	pthread_t th;
	watch w;
	LONG rc;

	*timed_out = false;
	memset(&w, 0, sizeof(w));
	w.card = card;
	w.timeout_ms = timeout_ms;
	if (!sync_init(&w.mu, &w.cv))
		return SCARD_E_NO_MEMORY;
	if (pthread_create(&th, NULL, watch_main, &w) != 0) {
		rc = SCARD_E_NO_MEMORY;
		goto out;
	}
	rc = fn(card, arg);
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
