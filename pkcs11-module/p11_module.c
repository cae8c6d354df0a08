/* The module's state: created by C_Initialize, destroyed by C_Finalize, so
 * nothing leaks from one cycle into the next. Fork: the state remembers the
 * pid that created it; in a child every call reports
 * CKR_CRYPTOKI_NOT_INITIALIZED and C_Initialize starts afresh (the parent's
 * PC/SC handles are abandoned, never closed from the child). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kw_log.h"
#include "p11_int.h"

static _Atomic(kwp11_module *) g_mod;

static void
module_free(kwp11_module *m)
{
	size_t i;

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
	/* old != NULL here: a forked child; the parent's state is not ours. */
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = kwp11_lock_configure(args, &m->lo)) != CKR_OK ||
	    (rv = kwp11_mutex_new(&m->lo, &m->lock)) != CKR_OK) {
		free(m);
		return rv;
	}
	m->pid = getpid();
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
	module_free(m);
	return CKR_OK;
}

CK_RV
kwp11_enter(kwp11_call *c)
{
	kwp11_module *m = atomic_load(&g_mod);

	memset(c, 0, sizeof(*c));
	if (m == NULL || m->pid != getpid())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	kwp11_mutex_lock(&m->lo, m->lock);
	if (atomic_load(&g_mod) != m) {
		kwp11_mutex_unlock(&m->lo, m->lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	c->m = m;
	c->mod_locked = true;
	return CKR_OK;
}

static void
lock_token(kwp11_call *c, kwp11_token *tok, bool excl)
{
	c->tok = tok;
	kwp11_mutex_lock(&c->m->lo, tok->lock);
	if (!excl) {
		kwp11_mutex_unlock(&c->m->lo, c->m->lock);
		c->mod_locked = false;
	}
}

CK_RV
kwp11_enter_slot(CK_SLOT_ID id, kwp11_call *c, bool excl)
{
	kwp11_token *tok;
	CK_RV rv;

	if ((rv = kwp11_enter(c)) != CKR_OK)
		return rv;
	if ((tok = kwp11_slot_find(c->m, id)) == NULL) {
		kwp11_leave(c);
		return CKR_SLOT_ID_INVALID;
	}
	lock_token(c, tok, excl);
	return CKR_OK;
}

CK_RV
kwp11_enter_session(CK_SESSION_HANDLE h, kwp11_call *c, bool excl)
{
	kwp11_session *s;
	CK_RV rv;

	if ((rv = kwp11_enter(c)) != CKR_OK)
		return rv;
	if ((s = kwp11_session_find(c->m, h)) == NULL) {
		kwp11_leave(c);
		return CKR_SESSION_HANDLE_INVALID;
	}
	c->s = s;
	lock_token(c, s->tok, excl);
	return CKR_OK;
}

void
kwp11_leave(kwp11_call *c)
{
	if (c->m == NULL)
		return;
	if (c->tok != NULL)
		kwp11_mutex_unlock(&c->m->lo, c->tok->lock);
	if (c->mod_locked)
		kwp11_mutex_unlock(&c->m->lo, c->m->lock);
	memset(c, 0, sizeof(*c));
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
