/* Slots: one per reader (device URI of any transport; for PC/SC every
 * reader, card or not). A reader keeps its slot id while present, and gets
 * the same id back if it returns during the same C_Initialize cycle. KEYWARD_TRANSPORTS (comma-separated) limits
 * discovery: "scheme:" lists that transport's devices, a full URI such as
 * "mock:a" adds that device. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kw_log.h"
#include "p11_int.h"

static atomic_uint g_wait_cancel;

/* The devices of one transport: where its tokens can appear (PC/SC:
 * every reader, with or without a card: a slot is a reader; its token
 * comes and goes). */
static void
list_scheme(const kw_transport_ops *ops, kw_strlist *out)
{
	(void)kw_transport_list_slots(ops, out);
}

static void
list_all(kw_strlist *out)
{
	size_t i;

	for (i = 0; kw_builtin_transports[i] != NULL; i++)
		list_scheme(kw_builtin_transports[i], out);
}

static void
list_env(const char *env, kw_strlist *out)
{
	char *copy, *tok, *save = NULL;
	const kw_transport_ops *ops;
	size_t l;

	if ((copy = strdup(env)) == NULL)
		return;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		l = strlen(tok);
		if (l > 1 && tok[l - 1] == ':') {
			tok[l - 1] = '\0';
			if ((ops = kw_transport_find_ops(tok)) != NULL)
				list_scheme(ops, out);
		} else if (strchr(tok, ':') != NULL) {
			(void)kw_strlist_add(out, tok);
		}
	}
	free(copy);
}

static kwp11_token *
slot_by_uri(kwp11_module *m, const char *uri)
{
	size_t i;

	for (i = 0; i < m->nslots; i++)
		if (strcmp(m->slots[i]->uri, uri) == 0)
			return m->slots[i];
	return NULL;
}

static void
slot_add(kwp11_module *m, const char *uri)
{
	kwp11_token **ns, *tok;

	if (m->nslots >= 64)   /* object handles carry 6 bits of slot index */
		return;
	if ((ns = realloc(m->slots, (m->nslots + 1) * sizeof(*ns))) == NULL)
		return;
	m->slots = ns;
	if (kwp11_token_new(uri, m->next_slot_id, &m->lo, &tok) != KW_OK)
		return;
	m->next_slot_id++;
	tok->event = true;
	m->slots[m->nslots++] = tok;
}

/* Token lock taken here, module lock not held. */
static void
slot_gone(kwp11_module *m, kwp11_token *tok)
{
	kwp11_token_lock(m, tok);
	kwp11_session_drop_token(m, tok);
	kwp11_token_lost(tok);
	tok->reader_present = false;
	tok->event = true;
	kwp11_token_unlock(m, tok);
}

/* Devices are listed without any lock held (listing may take a while: a
 * pcscd round trip, a D-Bus call); the slot table is then updated under
 * the module lock, and vanished readers are handled under their token's
 * lock after it. */
void
kwp11_slots_refresh(kwp11_module *m)
{
	kw_strlist l = { 0 };
	const char *env = getenv("KEYWARD_TRANSPORTS");
	kwp11_token *tok, *gone[64];
	size_t i, j, ngone = 0;
	bool found;

	if (env != NULL && *env != '\0')
		list_env(env, &l);
	else
		list_all(&l);
	kwp11_mutex_lock(&m->lo, m->lock);
	for (i = 0; i < l.n; i++) {
		if ((tok = slot_by_uri(m, l.v[i])) == NULL) {
			slot_add(m, l.v[i]);
		} else if (!tok->reader_present) {
			tok->reader_present = true;
			tok->event = true;
		}
	}
	for (i = 0; i < m->nslots; i++) {
		tok = m->slots[i];
		for (found = false, j = 0; j < l.n && !found; j++)
			found = strcmp(l.v[j], tok->uri) == 0;
		if (!found && tok->reader_present && ngone < sizeof(gone) / sizeof(gone[0]))
			gone[ngone++] = tok;
	}
	kwp11_mutex_unlock(&m->lo, m->lock);
	for (i = 0; i < ngone; i++)
		slot_gone(m, gone[i]);
	kw_strlist_free(&l);
}

/* Module lock held. */
kwp11_token *
kwp11_slot_find(kwp11_module *m, CK_SLOT_ID id)
{
	size_t i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i]->id == id && m->slots[i]->reader_present)
			return m->slots[i];
	return NULL;
}

/* The tokens of present readers, in slot order (tokens live as long as
 * the module: the pointers stay valid without the lock). */
static size_t
slots_snapshot(kwp11_module *m, kwp11_token **out, size_t max)
{
	size_t i, n = 0;

	kwp11_mutex_lock(&m->lo, m->lock);
	for (i = 0; i < m->nslots && n < max; i++)
		if (m->slots[i]->reader_present)
			out[n++] = m->slots[i];
	kwp11_mutex_unlock(&m->lo, m->lock);
	return n;
}

/* Presence under the token lock (not the module lock); drops sessions of
 * a vanished token. A token another call is using is present as of its
 * last exchange: it is not waited for. */
static bool
slot_probe(kwp11_module *m, kwp11_token *tok)
{
	bool was, now;

	if (atomic_load(&tok->busy) > 0 && tok->present)
		return true;
	kwp11_token_lock(m, tok);
	was = tok->present;
	now = kwp11_token_probe(tok);
	if (was && !now)
		kwp11_session_drop_token(m, tok);
	if (was != now)
		tok->event = true;
	kwp11_token_unlock(m, tok);
	return now;
}

/* What this thread's last size query counted, so that its fill call
 * returns the same slots without probing again (a token that failed to
 * reconnect during one and answered during the other made them disagree:
 * CKR_BUFFER_TOO_SMALL for a buffer of the size just returned). */
#define SNAP_MAX 64
static _Thread_local struct {
	unsigned cycle;            /* the module's; 0 = none */
	CK_BBOOL present;
	size_t n;
	CK_SLOT_ID ids[SNAP_MAX];
} t_snap;

CK_RV
kwp11_slot_list(kwp11_module *m, CK_BBOOL present, CK_SLOT_ID *list, CK_ULONG *count)
{
	kwp11_token *toks[SNAP_MAX];
	CK_SLOT_ID ids[SNAP_MAX];
	size_t n = 0, ntoks, i;

	if (list != NULL && t_snap.cycle == m->cycle && t_snap.present == present) {
		n = t_snap.n;
		memcpy(ids, t_snap.ids, n * sizeof(ids[0]));
	} else {
		/* The slot list changes only on the size query (or a first
		 * call), so that the size query and the fill call agree. */
		if (list == NULL || slots_snapshot(m, toks, SNAP_MAX) == 0)
			kwp11_slots_refresh(m);
		ntoks = slots_snapshot(m, toks, SNAP_MAX);
		for (i = 0; i < ntoks; i++) {
			if (present && !slot_probe(m, toks[i]))
				continue;
			ids[n++] = toks[i]->id;
		}
	}
	t_snap.cycle = 0;
	if (list == NULL) {
		t_snap.cycle = m->cycle;
		t_snap.present = present;
		t_snap.n = n;
		memcpy(t_snap.ids, ids, n * sizeof(ids[0]));
		*count = n;
		return CKR_OK;
	}
	if (n > *count) {
		*count = n;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(list, ids, n * sizeof(ids[0]));
	*count = n;
	return CKR_OK;
}

CK_RV
kwp11_slot_info(kwp11_token *tok, CK_SLOT_INFO *info)
{
	const char *name = strchr(tok->uri, ':');

	memset(info, 0, sizeof(*info));
	kwp11_pad_copy(info->slotDescription, sizeof(info->slotDescription),
	    name != NULL ? name + 1 : tok->uri);
	kwp11_pad_copy(info->manufacturerID, sizeof(info->manufacturerID), "keyward");
	info->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT;
	if (kwp11_token_probe(tok))
		info->flags |= CKF_TOKEN_PRESENT;
	return CKR_OK;
}

static bool
take_event(kwp11_module *m, CK_SLOT_ID *slot)
{
	kwp11_token *toks[SNAP_MAX];
	size_t i, n;

	n = slots_snapshot(m, toks, SNAP_MAX);
	for (i = 0; i < n; i++)
		(void)slot_probe(m, toks[i]);
	/* every slot, present or not: a vanished reader is an event too */
	kwp11_mutex_lock(&m->lo, m->lock);
	for (i = 0; i < m->nslots; i++) {
		if (atomic_exchange(&m->slots[i]->event, false)) {
			*slot = m->slots[i]->id;
			kwp11_mutex_unlock(&m->lo, m->lock);
			return true;
		}
	}
	kwp11_mutex_unlock(&m->lo, m->lock);
	return false;
}

/* Threads blocked in C_WaitForSlotEvent on a device monitor, so that
 * C_Finalize can wake them. */
#define MAX_WAITERS 32
static pthread_mutex_t g_waiters_lock = PTHREAD_MUTEX_INITIALIZER;
static kw_transport_monitor *g_waiters[MAX_WAITERS];

static bool
waiter_add(kw_transport_monitor *m)
{
	size_t i;
	bool ok = false;

	pthread_mutex_lock(&g_waiters_lock);
	for (i = 0; i < MAX_WAITERS && !ok; i++) {
		if (g_waiters[i] == NULL) {
			g_waiters[i] = m;
			ok = true;
		}
	}
	pthread_mutex_unlock(&g_waiters_lock);
	return ok;
}

static void
waiter_remove(kw_transport_monitor *m)
{
	size_t i;

	pthread_mutex_lock(&g_waiters_lock);
	for (i = 0; i < MAX_WAITERS; i++)
		if (g_waiters[i] == m)
			g_waiters[i] = NULL;
	pthread_mutex_unlock(&g_waiters_lock);
}

void
kwp11_wait_cancel(void)
{
	size_t i;

	atomic_fetch_add(&g_wait_cancel, 1);
	pthread_mutex_lock(&g_waiters_lock);
	for (i = 0; i < MAX_WAITERS; i++)
		if (g_waiters[i] != NULL)
			(void)kw_transport_monitor_cancel(g_waiters[i]);
	pthread_mutex_unlock(&g_waiters_lock);
}

/* Is this transport among the ones slots come from (KEYWARD_TRANSPORTS
 * unset, or naming it as "scheme:" or in a URI)? */
static bool
transport_in_use(const kw_transport_ops *ops)
{
	const char *env = getenv("KEYWARD_TRANSPORTS");
	char pfx[24];

	if (env == NULL || *env == '\0')
		return true;
	snprintf(pfx, sizeof(pfx), "%s:", ops->scheme);
	return strstr(env, pfx) != NULL;
}

/* A monitor on the first transport in use that can wait for devices (the
 * others are polled once a second), or NULL. */
static kw_transport_monitor *
monitor_open(void)
{
	kw_transport_monitor *mon = NULL;
	size_t i;

	for (i = 0; kw_builtin_transports[i] != NULL && mon == NULL; i++) {
		if (transport_in_use(kw_builtin_transports[i]) &&
		    kw_transport_monitor_new(kw_builtin_transports[i], &mon) != KW_OK)
			mon = NULL;
	}
	return mon;
}

/* Sleep until something may have changed: on the monitor when there is
 * one (woken by reader and card events and by C_Finalize), at most a
 * second; else 200 ms. */
static void
wait_change(kw_transport_monitor *mon)
{
	const struct timespec ts = { 0, 200 * 1000 * 1000 };
	bool changed;

	if (mon == NULL || kw_transport_monitor_wait(mon, 1000, &changed) != KW_OK)
		nanosleep(&ts, NULL);
}

/* Events: readers and tokens appearing or going since the last report.
 * CKF_DONT_BLOCK checks once; otherwise waits until an event, or until
 * C_Finalize (CKR_CRYPTOKI_NOT_INITIALIZED). */
CK_RV
kwp11_wait_for_slot_event(CK_FLAGS flags, CK_SLOT_ID *slot)
{
	unsigned cancel = atomic_load(&g_wait_cancel);
	kw_transport_monitor *mon = NULL;
	bool got, registered = false;
	kwp11_call c;
	CK_RV rv;

	/* the monitor exists before the first look, so nothing is missed */
	if ((flags & CKF_DONT_BLOCK) == 0 && (mon = monitor_open()) != NULL &&
	    !(registered = waiter_add(mon)))
		kw_transport_monitor_free(&mon);
	for (;;) {
		if ((rv = kwp11_enter(&c)) != CKR_OK)
			break;
		kwp11_slots_refresh(c.m);
		got = take_event(c.m, slot);
		kwp11_leave(&c);
		if (got) {
			rv = CKR_OK;
			break;
		}
		if ((flags & CKF_DONT_BLOCK) != 0) {
			rv = CKR_NO_EVENT;
			break;
		}
		wait_change(mon);
		if (atomic_load(&g_wait_cancel) != cancel) {
			rv = CKR_CRYPTOKI_NOT_INITIALIZED;
			break;
		}
	}
	if (registered)
		waiter_remove(mon);
	kw_transport_monitor_free(&mon);
	return rv;
}
