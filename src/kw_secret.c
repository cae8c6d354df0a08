#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>

#include "kw_secret.h"

void
kw_memzero(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void
kw_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	kw_memzero(p, n);
	free(p);
}

bool
kw_timingsafe_eq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* A new locked allocation, not yet in any caller's secret. */
static kw_rv
secret_new(kw_secret *n, size_t len)
{
	n->ptr = NULL;
	n->len = 0;
	n->locked = false;
	if (len == 0)
		return KW_ERR_ARG;
	if ((n->ptr = calloc(1, len)) == NULL)
		return KW_ERR_NOMEM;
	n->len = len;
	n->locked = mlock(n->ptr, len) == 0;
	return KW_OK;
}

kw_rv
kw_secret_alloc(kw_secret *s, size_t len)
{
	kw_secret n;
	kw_rv rv;

	if (s == NULL)
		return KW_ERR_ARG;
	rv = secret_new(&n, len);
	kw_secret_free(s);   /* what s held is wiped, never overwritten */
	if (rv == KW_OK)
		*s = n;
	return rv;
}

kw_rv
kw_secret_set(kw_secret *s, const void *p, size_t len)
{
	kw_secret n;
	kw_rv rv;

	if (s == NULL)
		return KW_ERR_ARG;
	/* copy before freeing: p may point into what s holds */
	if ((rv = p == NULL ? KW_ERR_ARG : secret_new(&n, len)) == KW_OK)
		memcpy(n.ptr, p, len);
	kw_secret_free(s);
	if (rv == KW_OK)
		*s = n;
	return rv;
}

void
kw_secret_free(kw_secret *s)
{
	if (s == NULL)
		return;
	if (s->ptr != NULL) {
		kw_memzero(s->ptr, s->len);
		if (s->locked)
			munlock(s->ptr, s->len);
		free(s->ptr);
	}
	s->ptr = NULL;
	s->len = 0;
	s->locked = false;
}
