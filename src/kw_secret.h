/* Secret memory: wiping that the compiler cannot elide, constant-time
 * comparison, and locked (mlock) allocations for keys held in clear. */
#ifndef KW_SECRET_H
#define KW_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"

void kw_memzero(void *p, size_t n);
void kw_freezero(void *p, size_t n);          /* wipe then free; NULL ok */
bool kw_timingsafe_eq(const void *a, const void *b, size_t n);

/* A secret: locked (best effort: mlock may be refused by RLIMIT_MEMLOCK),
 * never swapped out where the OS allows, wiped on free. */
typedef struct kw_secret {
	uint8_t *ptr;
	size_t len;
	bool locked;
} kw_secret;

kw_rv kw_secret_alloc(kw_secret *s, size_t len);
kw_rv kw_secret_set(kw_secret *s, const void *p, size_t len);
void kw_secret_free(kw_secret *s);  /* wipe, unlock, free; leaves s empty */

#endif
