/* Sessions: a table of pointers that grows as needed (no small cap; 65535
 * open sessions at most), handles = generation << 16 | index + 1 so a
 * stale handle never reaches a newer session. Sessions of a removed token
 * are closed; their handles then fail.
 *
 * A session is closed with its token's lock and the module lock held: it
 * leaves the table and gives up its state at once, but its memory stays
 * until the last call that took a reference (kwp11_enter_session) leaves;
 * such a call sees it closed once it has the token lock. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "p11_int.h"

#define S_IDX_BITS 16
#define S_MAX ((1u << S_IDX_BITS) - 1)

void
kwp11_op_reset(kwp11_op *op)
{
	EVP_MD_CTX_free(op->mdctx);
	kw_buf_free(&op->label);
	kw_buf_free(&op->data);
	kw_buf_free(&op->result);
	kw_secret_free(&op->ctx_pin);
	memset(op, 0, sizeof(*op));
}

/* Token lock and module lock held. */
static void
session_close_locked(kwp11_module *m, kwp11_session *s)
{
	kwp11_token *tok = s->tok;
	size_t idx = (size_t)(s->handle & S_MAX) - 1, i;

	if (s->closed)
		return;
	/* session objects die with their session */
	for (i = 0; i < tok->nobjs; i++) {
		if (tok->objs[i].live && tok->objs[i].owner == s->handle)
			kwp11_obj_clear(&tok->objs[i]);
	}
	if (tok->nsessions > 0)
		tok->nsessions--;
	if ((s->flags & CKF_RW_SESSION) != 0 && tok->nrw > 0)
		tok->nrw--;
	/* last session closed: logged out here; the card is left alone, as
	 * other processes may share its PIN status (only C_Logout resets it) */
	if (tok->nsessions == 0)
		kwp11_login_clear(tok);
	kwp11_op_reset(&s->op);
	free(s->found);
	s->found = NULL;
	s->nfound = s->findpos = 0;
	s->find_active = false;
	if (idx < m->nsessions && m->sessions[idx] == s)
		m->sessions[idx] = NULL;
	s->closed = true;
	kwp11_session_unref(s);   /* the table's reference */
}

void
kwp11_session_ref(kwp11_session *s)
{
	atomic_fetch_add(&s->refs, 1);
}

void
kwp11_session_unref(kwp11_session *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		free(s);
}

/* Module lock held. No card I/O, no token lock. */
kwp11_session *
kwp11_session_find(kwp11_module *m, CK_SESSION_HANDLE h)
{
	size_t idx = (size_t)(h & S_MAX);
	kwp11_session *s;

	if (idx == 0 || idx > m->nsessions || (s = m->sessions[idx - 1]) == NULL ||
	    s->handle != h)
		return NULL;
	return s;
}

bool
kwp11_session_check(kwp11_call *c)
{
	kwp11_session *s = c->s;
	bool locked = c->mod_locked;

	if (s->closed)
		return false;
	if (s->tok->gen == s->tok_gen)
		return true;
	/* token removed since the session was opened: close it now */
	if (!locked)
		kwp11_module_lock(c);
	session_close_locked(c->m, s);
	if (!locked)
		kwp11_module_unlock(c);
	return false;
}

/* Token lock held (the card may be identified here); the module lock is
 * taken for the table only. */
CK_RV
kwp11_session_open(kwp11_module *m, kwp11_token *tok, CK_FLAGS flags, CK_SESSION_HANDLE *h)
{
	kwp11_session *s, **ns;
	size_t i;
	CK_RV rv = CKR_OK;

	if ((flags & CKF_SERIAL_SESSION) == 0)
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if (!kwp11_token_probe(tok))
		return CKR_TOKEN_NOT_PRESENT;
	if ((flags & CKF_RW_SESSION) == 0 && tok->login == KWP11_LOGIN_SO)
		return CKR_SESSION_READ_WRITE_SO_EXISTS;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CKR_HOST_MEMORY;
	kwp11_mutex_lock(&m->lo, m->lock);
	for (i = 0; i < m->nsessions && m->sessions[i] != NULL; i++)
		;
	if (i == m->nsessions) {
		if (m->nsessions >= S_MAX) {
			rv = CKR_SESSION_COUNT;
			goto out;
		}
		if ((ns = realloc(m->sessions, (m->nsessions + 16 > S_MAX ? S_MAX :
		    m->nsessions + 16) * sizeof(*ns))) == NULL) {
			rv = CKR_HOST_MEMORY;
			goto out;
		}
		m->sessions = ns;
		for (; m->nsessions < S_MAX && m->nsessions < i + 16; m->nsessions++)
			ns[m->nsessions] = NULL;
	}
	if (++m->session_gen == 0)
		m->session_gen = 1;
	s->handle = ((CK_SESSION_HANDLE)m->session_gen << S_IDX_BITS) | (CK_SESSION_HANDLE)(i + 1);
	atomic_init(&s->refs, 1);   /* the table's */
	s->tok = tok;
	s->tok_gen = tok->gen;
	s->flags = flags;
	m->sessions[i] = s;
	s = NULL;
	tok->nsessions++;
	if ((flags & CKF_RW_SESSION) != 0)
		tok->nrw++;
	*h = m->sessions[i]->handle;
out:
	kwp11_mutex_unlock(&m->lo, m->lock);
	free(s);
	return rv;
}

CK_RV
kwp11_session_close(kwp11_module *m, kwp11_session *s)
{
	session_close_locked(m, s);
	return CKR_OK;
}

static void
drop_locked(kwp11_module *m, kwp11_token *tok)
{
	size_t i;

	for (i = 0; i < m->nsessions; i++) {
		if (m->sessions[i] != NULL && m->sessions[i]->tok == tok)
			session_close_locked(m, m->sessions[i]);
	}
}

void
kwp11_session_drop_token(kwp11_module *m, kwp11_token *tok)
{
	kwp11_mutex_lock(&m->lo, m->lock);
	drop_locked(m, tok);
	kwp11_mutex_unlock(&m->lo, m->lock);
}

CK_RV
kwp11_session_close_all(kwp11_module *m, kwp11_token *tok)
{
	drop_locked(m, tok);
	return CKR_OK;
}

CK_RV
kwp11_session_info(kwp11_session *s, CK_SESSION_INFO *info)
{
	bool rw = (s->flags & CKF_RW_SESSION) != 0;

	memset(info, 0, sizeof(*info));
	info->slotID = s->tok->id;
	info->flags = s->flags;
	switch (s->tok->login) {
	case KWP11_LOGIN_USER:
		info->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
		break;
	case KWP11_LOGIN_SO:
		info->state = CKS_RW_SO_FUNCTIONS;
		break;
	default:
		info->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
		break;
	}
	return CKR_OK;
}
