/* PC/SC reader enumeration and the hotplug monitor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kw_config.h"
#include "kw_log.h"
#include "kw_pcsc_int.h"

#define PNP_READER "\\\\?PnP?\\Notification"
#define MONITOR_MAX_MS (3600 * 1000)
/* Without PnP notification, the reader list is re-read this often. */
#define MONITOR_POLL_MS 500
/* State bits whose change is an event for callers (plus the event counter
 * pcsc-lite keeps in the high 16 bits). */
#define MONITOR_BITS (SCARD_STATE_PRESENT | SCARD_STATE_EMPTY | \
	SCARD_STATE_UNAVAILABLE | SCARD_STATE_UNKNOWN | SCARD_STATE_MUTE)

kw_rv
kw_pcsc_reader_names(SCARDCONTEXT ctx, char **msz)
{
	DWORD len = 0;
	char *buf;
	LONG rc;
	int tries;

	*msz = NULL;
	/* The list may grow between the two calls: retry a few times. */
	for (tries = 0; tries < 4; tries++) {
		rc = SCardListReaders(ctx, NULL, NULL, &len);
		if (rc == SCARD_E_NO_READERS_AVAILABLE)
			return KW_OK;
		if (rc != SCARD_S_SUCCESS)
			return kw_pcsc_rv(rc, true);
		if (len < 2 || len > 65536)
			return KW_ERR_PROTOCOL;
		if ((buf = calloc(1, (size_t)len + 2)) == NULL)
			return KW_ERR_NOMEM;
		rc = SCardListReaders(ctx, NULL, buf, &len);
		if (rc == SCARD_S_SUCCESS) {
			*msz = buf;   /* two extra NULs terminate it in any case */
			return KW_OK;
		}
		free(buf);
		if (rc == SCARD_E_NO_READERS_AVAILABLE)
			return KW_OK;
		if (rc != SCARD_E_INSUFFICIENT_BUFFER)
			return kw_pcsc_rv(rc, true);
	}
	return KW_ERR_TRANSPORT;
}

static size_t
msz_count(const char *msz)
{
	size_t n = 0;

	for (; msz != NULL && *msz != '\0'; msz += strlen(msz) + 1)
		n++;
	return n;
}

static kw_rv
pcsc_context(SCARDCONTEXT *ctx)
{
	LONG rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, ctx);

	if (rc != SCARD_S_SUCCESS)
		kw_debug("pcsc: SCardEstablishContext: %s", kw_pcsc_code_name(rc));
	return kw_pcsc_rv(rc, false);
}

kw_rv
kw_pcsc_list_readers(kw_strlist *out)
{
	SCARDCONTEXT ctx;
	char *msz = NULL;
	const char *r;
	kw_rv rv;

	if ((rv = pcsc_context(&ctx)) != KW_OK)
		return rv;
	if ((rv = kw_pcsc_reader_names(ctx, &msz)) != KW_OK)
		goto out;
	for (r = msz; r != NULL && *r != '\0'; r += strlen(r) + 1)
		if ((rv = kw_strlist_add(out, r)) != KW_OK)
			goto out;
out:
	free(msz);
	(void)SCardReleaseContext(ctx);
	return rv;
}

/* Fill st[0..n) for the readers of msz and read their state now. */
static kw_rv
pcsc_read_states(SCARDCONTEXT ctx, const char *msz, SCARD_READERSTATE *st, size_t n)
{
	const char *r = msz;
	size_t i;
	LONG rc;

	for (i = 0; i < n; i++, r += strlen(r) + 1) {
		memset(&st[i], 0, sizeof(st[i]));
		st[i].szReader = r;
		st[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	if (n == 0)
		return KW_OK;
	rc = SCardGetStatusChange(ctx, 0, st, (DWORD)n);
	if (rc != SCARD_S_SUCCESS && rc != SCARD_E_TIMEOUT)
		return kw_pcsc_rv(rc, true);
	return KW_OK;
}

/* A reader configured as a SIM (UICC) reader belongs to the uicc
 * transport, which reaches the key applet on a logical channel; as a plain
 * pcsc: token it would only show an empty slot and SELECT on the basic
 * channel, which belongs to the telecom applications. */
static bool
reader_is_uicc(const kw_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->uicc_readers.n; i++)
		if (strcmp(cfg->uicc_readers.v[i], name) == 0)
			return true;
	return false;
}

static kw_rv
pcsc_add_cards(SCARDCONTEXT ctx, const char *msz, const kw_config *cfg, kw_strlist *out)
{
	SCARD_READERSTATE *st;
	size_t i, n = msz_count(msz);
	char uri[MAX_READERNAME + 8];
	kw_rv rv;

	if (n == 0)
		return KW_OK;
	if ((st = calloc(n, sizeof(*st))) == NULL)
		return KW_ERR_NOMEM;
	if ((rv = pcsc_read_states(ctx, msz, st, n)) != KW_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if ((st[i].dwEventState & SCARD_STATE_PRESENT) == 0 ||
		    (st[i].dwEventState & SCARD_STATE_MUTE) != 0)
			continue;
		if (strlen(st[i].szReader) >= MAX_READERNAME ||
		    reader_is_uicc(cfg, st[i].szReader))
			continue;
		snprintf(uri, sizeof(uri), "pcsc:%s", st[i].szReader);
		if ((rv = kw_strlist_add(out, uri)) != KW_OK)
			goto out;
	}
out:
	free(st);
	return rv;
}

kw_rv
kw_pcsc_list_cards(kw_strlist *out)
{
	SCARDCONTEXT ctx;
	kw_config cfg;
	char *msz = NULL;
	kw_rv rv;

	if ((rv = pcsc_context(&ctx)) != KW_OK)
		return rv;
	(void)kw_config_load(&cfg);   /* no configuration: no SIM readers */
	if ((rv = kw_pcsc_reader_names(ctx, &msz)) == KW_OK)
		rv = pcsc_add_cards(ctx, msz, &cfg, out);
	kw_config_free(&cfg);
	free(msz);
	(void)SCardReleaseContext(ctx);
	return rv;
}

kw_rv
kw_pcsc_list_key_readers(kw_strlist *out)
{
	kw_strlist all = { NULL, 0 };
	kw_config cfg;
	size_t i;
	kw_rv rv;

	if ((rv = kw_pcsc_list_readers(&all)) != KW_OK)
		return rv;
	(void)kw_config_load(&cfg);
	for (i = 0; i < all.n && rv == KW_OK; i++)
		if (!reader_is_uicc(&cfg, all.v[i]))
			rv = kw_strlist_add(out, all.v[i]);
	kw_config_free(&cfg);
	kw_strlist_free(&all);
	return rv;
}

struct kw_pcsc_monitor {
	SCARDCONTEXT ctx;
	char *msz;                /* reader names the states point into */
	SCARD_READERSTATE *st;    /* one per reader, then the PnP entry */
	size_t n;                 /* readers (the PnP entry is st[n]) */
	bool pnp;                 /* PnP notification works */
};

static bool
msz_equal(const char *a, const char *b)
{
	size_t la, lb;

	for (;;) {
		la = a != NULL ? strlen(a) : 0;
		lb = b != NULL ? strlen(b) : 0;
		if (la != lb || (la != 0 && memcmp(a, b, la) != 0))
			return false;
		if (la == 0)
			return true;
		a += la + 1;
		b += lb + 1;
	}
}

/* Take a new snapshot of the readers and their states. */
static kw_rv
monitor_snapshot(kw_pcsc_monitor *m, char *msz)
{
	SCARD_READERSTATE *st;
	size_t i, n = msz_count(msz);
	kw_rv rv;

	if ((st = calloc(n + 1, sizeof(*st))) == NULL) {
		free(msz);
		return KW_ERR_NOMEM;
	}
	if ((rv = pcsc_read_states(m->ctx, msz, st, n)) != KW_OK) {
		free(st);
		free(msz);
		return rv;
	}
	st[n].szReader = PNP_READER;
	st[n].dwCurrentState = (DWORD)n << 16;
	for (i = 0; i < n; i++)
		st[i].dwCurrentState = st[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	free(m->st);
	free(m->msz);
	m->st = st;
	m->msz = msz;
	m->n = n;
	return KW_OK;
}

static kw_rv
monitor_probe_pnp(kw_pcsc_monitor *m)
{
	SCARD_READERSTATE pnp;
	LONG rc;

	memset(&pnp, 0, sizeof(pnp));
	pnp.szReader = PNP_READER;
	pnp.dwCurrentState = (DWORD)m->n << 16;
	rc = SCardGetStatusChange(m->ctx, 0, &pnp, 1);
	if (rc != SCARD_S_SUCCESS && rc != SCARD_E_TIMEOUT)
		return kw_pcsc_rv(rc, true);
	m->pnp = (pnp.dwEventState & SCARD_STATE_UNKNOWN) == 0;
	return KW_OK;
}

kw_rv
kw_pcsc_monitor_new(kw_pcsc_monitor **out)
{
	kw_pcsc_monitor *m;
	char *msz = NULL;
	kw_rv rv;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return KW_ERR_NOMEM;
	if ((rv = pcsc_context(&m->ctx)) != KW_OK) {
		free(m);
		return rv;
	}
	if ((rv = kw_pcsc_reader_names(m->ctx, &msz)) != KW_OK ||
	    (rv = monitor_snapshot(m, msz)) != KW_OK ||
	    (rv = monitor_probe_pnp(m)) != KW_OK) {
		kw_pcsc_monitor_free(&m);
		return rv;
	}
	*out = m;
	return KW_OK;
}

void
kw_pcsc_monitor_free(kw_pcsc_monitor **mp)
{
	kw_pcsc_monitor *m;

	if (mp == NULL || (m = *mp) == NULL)
		return;
	(void)SCardReleaseContext(m->ctx);
	free(m->st);
	free(m->msz);
	free(m);
	*mp = NULL;
}

kw_rv
kw_pcsc_monitor_cancel(kw_pcsc_monitor *m)
{
	LONG rc;

	if (m == NULL)
		return KW_ERR_ARG;
	rc = SCardCancel(m->ctx);
	return kw_pcsc_rv(rc, true);
}

/* Did the reader set change since the snapshot? Then take a new one. */
static kw_rv
monitor_check_readers(kw_pcsc_monitor *m, bool *changed)
{
	char *msz = NULL;
	kw_rv rv;

	if ((rv = kw_pcsc_reader_names(m->ctx, &msz)) != KW_OK)
		return rv;
	if (msz_equal(msz, m->msz)) {
		free(msz);
		return KW_OK;
	}
	*changed = true;
	return monitor_snapshot(m, msz);
}

static bool
monitor_diff(const kw_pcsc_monitor *m)
{
	size_t i;
	DWORD cur, ev;

	for (i = 0; i < m->n; i++) {
		cur = m->st[i].dwCurrentState;
		ev = m->st[i].dwEventState;
		if (((cur ^ ev) & MONITOR_BITS) != 0 || (cur >> 16) != (ev >> 16))
			return true;
	}
	return m->pnp && (m->st[m->n].dwEventState & SCARD_STATE_CHANGED) != 0;
}

/* One bounded SCardGetStatusChange over the snapshot. */
static kw_rv
monitor_wait_once(kw_pcsc_monitor *m, DWORD ms, bool *changed, bool *stop)
{
	size_t i, n = m->n + (m->pnp ? 1 : 0);
	LONG rc;
	char *msz;

	rc = SCardGetStatusChange(m->ctx, ms, m->st, (DWORD)n);
	if (rc == SCARD_E_TIMEOUT)
		return KW_OK;
	if (rc == SCARD_E_CANCELLED) {
		*stop = true;
		return KW_OK;
	}
	if (rc == SCARD_E_UNKNOWN_READER || rc == SCARD_E_READER_UNAVAILABLE) {
		*changed = true;
		return kw_pcsc_reader_names(m->ctx, &msz) == KW_OK ?
		    monitor_snapshot(m, msz) : KW_ERR_NO_READER;
	}
	if (rc != SCARD_S_SUCCESS)
		return kw_pcsc_rv(rc, true);
	if (monitor_diff(m))
		*changed = true;
	for (i = 0; i < m->n; i++)
		m->st[i].dwCurrentState = m->st[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	if (m->pnp && (m->st[m->n].dwEventState & SCARD_STATE_CHANGED) != 0) {
		m->st[m->n].dwCurrentState =
		    m->st[m->n].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		return monitor_check_readers(m, changed);
	}
	return KW_OK;
}

static void
sleep_ms(DWORD ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

kw_rv
kw_pcsc_monitor_wait(kw_pcsc_monitor *m, int timeout_ms, bool *changed)
{
	long deadline, left;
	bool stop = false;
	DWORD slice;
	kw_rv rv;

	if (m == NULL || changed == NULL || timeout_ms < 0)
		return KW_ERR_ARG;
	*changed = false;
	if (timeout_ms > MONITOR_MAX_MS)
		timeout_ms = MONITOR_MAX_MS;
	deadline = mono_ms() + timeout_ms;
	for (;;) {
		if ((rv = monitor_check_readers(m, changed)) != KW_OK || *changed)
			return rv;
		left = deadline - mono_ms();
		if (left < 0)
			left = 0;
		slice = (DWORD)left;
		/* Without PnP (or with no reader at all) poll the reader list. */
		if ((!m->pnp || m->n == 0) && slice > MONITOR_POLL_MS)
			slice = MONITOR_POLL_MS;
		if (m->n == 0 && !m->pnp)
			sleep_ms(slice);
		else if ((rv = monitor_wait_once(m, slice, changed, &stop)) != KW_OK)
			return rv;
		if (*changed || stop || mono_ms() >= deadline)
			return KW_OK;
	}
}

kw_rv
kw_pcsc_wait_change(int timeout_ms, bool *changed)
{
	kw_pcsc_monitor *m = NULL;
	kw_rv rv;

	if (changed == NULL)
		return KW_ERR_ARG;
	*changed = false;
	if ((rv = kw_pcsc_monitor_new(&m)) != KW_OK)
		return rv;
	rv = kw_pcsc_monitor_wait(m, timeout_ms, changed);
	kw_pcsc_monitor_free(&m);
	return rv;
}

/* ---- the transport interface's list_slots and monitor ops ---- */

kw_rv
kw_pcsc_list_slots(kw_strlist *out)
{
	kw_strlist r = { NULL, 0 };
	char uri[512];
	size_t i;
	kw_rv rv;

	if ((rv = kw_pcsc_list_key_readers(&r)) == KW_OK) {
		for (i = 0; i < r.n && rv == KW_OK; i++) {
			if ((size_t)snprintf(uri, sizeof(uri), "pcsc:%s", r.v[i]) < sizeof(uri))
				rv = kw_strlist_add(out, uri);
		}
	}
	kw_strlist_free(&r);
	return rv;
}

kw_rv
kw_pcsc_op_monitor_new(void **mon)
{
	kw_pcsc_monitor *m = NULL;
	kw_rv rv = kw_pcsc_monitor_new(&m);

	*mon = m;
	return rv;
}

kw_rv
kw_pcsc_op_monitor_wait(void *mon, int timeout_ms, bool *changed)
{
	return kw_pcsc_monitor_wait(mon, timeout_ms, changed);
}

kw_rv
kw_pcsc_op_monitor_cancel(void *mon)
{
	return kw_pcsc_monitor_cancel(mon);
}

void
kw_pcsc_op_monitor_free(void *mon)
{
	kw_pcsc_monitor *m = mon;

	kw_pcsc_monitor_free(&m);
}
