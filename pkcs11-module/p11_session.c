/* Sessions: a table of pointers that grows as needed (no small cap; 65535
 * open sessions at most), handles = generation << 16 | index + 1 so a
 * stale handle never reaches a newer session. Sessions of a removed token
 * are closed; their handles then fail. */
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

static void
session_free(kwp11_module *m, kwp11_session *s)
{
	kwp11_token *tok = s->tok;
	size_t idx = (size_t)(s->handle & S_MAX) - 1, i;

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
	m->sessions[idx] = NULL;
	free(s);
}

kwp11_session *
kwp11_session_find(kwp11_module *m, CK_SESSION_HANDLE h)
{
	size_t idx = (size_t)(h & S_MAX);
	kwp11_session *s;
	uint16_t gen;

	if (idx == 0 || idx > m->nsessions || (s = m->sessions[idx - 1]) == NULL ||
	    s->handle != h)
		return NULL;
	gen = __atomic_load_n(&s->tok->gen, __ATOMIC_RELAXED);
	if (gen != s->tok_gen) {
		/* token removed since the session was opened */
		kwp11_token *tok = s->tok;

		kwp11_mutex_lock(&m->lo, tok->lock);
		session_free(m, s);
		kwp11_mutex_unlock(&m->lo, tok->lock);
		return NULL;
	}
	return s;
}

CK_RV
kwp11_session_open(kwp11_module *m, kwp11_token *tok, CK_FLAGS flags, CK_SESSION_HANDLE *h)
{
	kwp11_session *s, **ns;
	size_t i;

	if ((flags & CKF_SERIAL_SESSION) == 0)
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if (!kwp11_token_probe(tok))
		return CKR_TOKEN_NOT_PRESENT;
	if ((flags & CKF_RW_SESSION) == 0 && tok->login == KWP11_LOGIN_SO)
		return CKR_SESSION_READ_WRITE_SO_EXISTS;
	for (i = 0; i < m->nsessions && m->sessions[i] != NULL; i++)
		;
	if (i == m->nsessions) {
		if (m->nsessions >= S_MAX)
			return CKR_SESSION_COUNT;
		if ((ns = realloc(m->sessions, (m->nsessions + 16 > S_MAX ? S_MAX :
		    m->nsessions + 16) * sizeof(*ns))) == NULL)
			return CKR_HOST_MEMORY;
		m->sessions = ns;
		for (; m->nsessions < S_MAX && m->nsessions < i + 16; m->nsessions++)
			ns[m->nsessions] = NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CKR_HOST_MEMORY;
	if (++m->session_gen == 0)
		m->session_gen = 1;
	s->handle = ((CK_SESSION_HANDLE)m->session_gen << S_IDX_BITS) | (CK_SESSION_HANDLE)(i + 1);
	s->tok = tok;
	s->tok_gen = tok->gen;
	s->flags = flags;
	m->sessions[i] = s;
	tok->nsessions++;
	if ((flags & CKF_RW_SESSION) != 0)
		tok->nrw++;
	*h = s->handle;
	return CKR_OK;
}

CK_RV
kwp11_session_close(kwp11_module *m, kwp11_session *s)
{
	session_free(m, s);
	return CKR_OK;
}

void
kwp11_session_drop_token(kwp11_module *m, kwp11_token *tok)
{
	size_t i;

	for (i = 0; i < m->nsessions; i++) {
		if (m->sessions[i] != NULL && m->sessions[i]->tok == tok)
			session_free(m, m->sessions[i]);
	}
}

CK_RV
kwp11_session_close_all(kwp11_module *m, kwp11_token *tok)
{
	kwp11_session_drop_token(m, tok);
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
