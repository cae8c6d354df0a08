/* The module's state: created by C_Initialize, destroyed by C_Finalize, so
 * nothing leaks from one cycle into the next. Fork: the state remembers the
 * pid that created it; in a child every call reports
 * CKR_CRYPTOKI_NOT_INITIALIZED and C_Initialize starts afresh (the parent's
 * PC/SC handles are abandoned, never closed from the child).
 *
 * Locking: a call first registers itself (g_calls, so that C_Finalize
 * frees nothing a call still uses), then takes the module lock only to
 * look its session or slot up and take a reference, releases it, and
 * only then waits for the token's lock: a thread waiting for a busy token
 * never holds the module lock, so calls on other tokens go on. Under the
 * token lock the session is checked again (closed meanwhile, or its token
 * lost since it was opened: then it is closed now). The module lock is
 * taken after a token lock when the session table changes; it is never
 * held while waiting for a token lock. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kw_log.h"
#include "p11_int.h"

static _Atomic(kwp11_module *) g_mod;
/* Calls in progress (registered before g_mod is read). */
static atomic_uint g_calls;
static atomic_uint g_cycle;

static void
module_free(kwp11_module *m)
{
	size_t i;

	/* no call is in progress: nobody else holds a session reference */
	for (i = 0; i < m->nsessions; i++) {
		if (m->sessions[i] != NULL) {
			kwp11_op_reset(&m->sessions[i]->op);
			free(m->sessions[i]->found);
			free(m->sessions[i]);
		}
	}
	free(m->sessions);
	for (i = 0; i < m->nslots; i++)
		kwp11_token_free(&m->lo, &m->slots[i]);
	free(m->slots);
	kwp11_mutex_free(&m->lo, &m->lock);
	free(m);
}

CK_RV
kwp11_module_init(CK_VOID_PTR args)
{
	kwp11_module *m, *old;
	CK_RV rv;

	old = atomic_load(&g_mod);
	if (old != NULL && old->pid == getpid())
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	/* old != NULL here: a forked child; the parent's state is not ours,
	 * nor are the parent's calls in progress */
	if (old != NULL)
		atomic_store(&g_calls, 0);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = kwp11_lock_configure(args, &m->lo)) != CKR_OK ||
	    (rv = kwp11_mutex_new(&m->lo, &m->lock)) != CKR_OK) {
		free(m);
		return rv;
	}
	m->pid = getpid();
	if ((m->cycle = atomic_fetch_add(&g_cycle, 1) + 1) == 0)
		m->cycle = atomic_fetch_add(&g_cycle, 1) + 1;
	m->next_slot_id = 1;
	m->session_gen = 1;
	kw_log_init(-1);
	if (!atomic_compare_exchange_strong(&g_mod, &old, m)) {
		kwp11_mutex_free(&m->lo, &m->lock);
		free(m);
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	}
	return CKR_OK;
}

CK_RV
kwp11_module_fini(CK_VOID_PTR reserved)
{
	kwp11_module *m;

	if (reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	m = atomic_load(&g_mod);
	if (m == NULL || m->pid != getpid())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	kwp11_mutex_lock(&m->lo, m->lock);
	if (!atomic_compare_exchange_strong(&g_mod, &m, NULL)) {
		kwp11_mutex_unlock(&m->lo, m->lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	kwp11_wait_cancel();
	kwp11_mutex_unlock(&m->lo, m->lock);
	/* calls that got in before are finished before anything is freed
	 * (the specification leaves C_Finalize during other calls undefined,
	 * except C_WaitForSlotEvent, which leaves at once) */
	while (atomic_load(&g_calls) != 0) {
		const struct timespec ts = { 0, 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	module_free(m);
	return CKR_OK;
}

CK_RV
kwp11_enter(kwp11_call *c)
{
	kwp11_module *m;

	memset(c, 0, sizeof(*c));
	atomic_fetch_add(&g_calls, 1);
	m = atomic_load(&g_mod);
	if (m == NULL || m->pid != getpid()) {
		atomic_fetch_sub(&g_calls, 1);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	c->m = m;
	return CKR_OK;
}

void
kwp11_module_lock(kwp11_call *c)
{
	kwp11_mutex_lock(&c->m->lo, c->m->lock);
	c->mod_locked = true;
}

void
kwp11_module_unlock(kwp11_call *c)
{
	c->mod_locked = false;
	kwp11_mutex_unlock(&c->m->lo, c->m->lock);
}

void
kwp11_token_lock(const kwp11_module *m, kwp11_token *tok)
{
	kwp11_mutex_lock(&m->lo, tok->lock);
	atomic_fetch_add(&tok->busy, 1);
}

void
kwp11_token_unlock(const kwp11_module *m, kwp11_token *tok)
{
	atomic_fetch_sub(&tok->busy, 1);
	kwp11_mutex_unlock(&m->lo, tok->lock);
}

/* With the token locked (and the module not): excl also takes the module
 * lock (token, then module). */
static void
lock_token(kwp11_call *c, kwp11_token *tok, bool excl)
{
	c->tok = tok;
	kwp11_token_lock(c->m, tok);
	if (excl)
		kwp11_module_lock(c);
}

CK_RV
kwp11_enter_slot(CK_SLOT_ID id, kwp11_call *c, bool excl)
{
	kwp11_token *tok;
	CK_RV rv;

	if ((rv = kwp11_enter(c)) != CKR_OK)
		return rv;
	kwp11_module_lock(c);
	tok = kwp11_slot_find(c->m, id);
	kwp11_module_unlock(c);
	/* tokens live as long as the module: no reference needed */
	if (tok == NULL) {
		kwp11_leave(c);
		return CKR_SLOT_ID_INVALID;
	}
	lock_token(c, tok, excl);
	if (!tok->reader_present) {   /* the reader went meanwhile */
		kwp11_leave(c);
		return CKR_SLOT_ID_INVALID;
	}
	return CKR_OK;
}

CK_RV
kwp11_enter_session(CK_SESSION_HANDLE h, kwp11_call *c, bool excl)
{
	kwp11_session *s;
	CK_RV rv;

	if ((rv = kwp11_enter(c)) != CKR_OK)
		return rv;
	kwp11_module_lock(c);
	if ((s = kwp11_session_find(c->m, h)) != NULL)
		kwp11_session_ref(s);
	kwp11_module_unlock(c);
	if (s == NULL) {
		kwp11_leave(c);
		return CKR_SESSION_HANDLE_INVALID;
	}
	c->s = s;
	lock_token(c, s->tok, excl);
	/* again under the token lock: closed meanwhile, or its token lost */
	if (!kwp11_session_check(c)) {
		kwp11_leave(c);
		return CKR_SESSION_HANDLE_INVALID;
	}
	return CKR_OK;
}

void
kwp11_leave(kwp11_call *c)
{
	if (c->m == NULL)
		return;
	if (c->mod_locked)
		kwp11_module_unlock(c);
	if (c->tok != NULL)
		kwp11_token_unlock(c->m, c->tok);
	if (c->s != NULL)
		kwp11_session_unref(c->s);
	memset(c, 0, sizeof(*c));
	atomic_fetch_sub(&g_calls, 1);
}

/* Fixed-width, blank-padded, not NUL-terminated PKCS#11 text fields. */
void
kwp11_pad_copy(CK_UTF8CHAR *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, l < n ? l : n);
}

CK_RV
kwp11_get_info(CK_INFO *info)
{
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = 3;
	info->cryptokiVersion.minor = 0;
	kwp11_pad_copy(info->manufacturerID, sizeof(info->manufacturerID), "keyward");
	kwp11_pad_copy(info->libraryDescription, sizeof(info->libraryDescription),
	    "keyward PIV PKCS#11 module");
	info->libraryVersion.major = 0;
	info->libraryVersion.minor = 1;
	return CKR_OK;
}
