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

kw_rv
kw_secret_alloc(kw_secret *s, size_t len)
{
	s->ptr = NULL;
	s->len = 0;
	s->locked = false;
	if (len == 0)
		return KW_ERR_ARG;
	if ((s->ptr = calloc(1, len)) == NULL)
		return KW_ERR_NOMEM;
	s->len = len;
	s->locked = mlock(s->ptr, len) == 0;
	return KW_OK;
}

kw_rv
kw_secret_set(kw_secret *s, const void *p, size_t len)
{
	kw_rv rv;

	if ((rv = kw_secret_alloc(s, len)) != KW_OK)
		return rv;
	memcpy(s->ptr, p, len);
	return KW_OK;
}

void
kw_secret_free(kw_secret *s)
{
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
