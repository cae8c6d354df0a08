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
 * never swapped out where the OS allows, wiped on free.
 *
 * A kw_secret starts empty (`kw_secret s = KW_SECRET_EMPTY;`, `= { 0 }`, or
 * inside a zeroed struct) and is only ever changed by these functions.
 * Storing into a secret that still holds one (alloc or set) first wipes,
 * unlocks and frees what it held: a held secret can never be overwritten
 * without being wiped, nor leaked. On any error the secret is left empty
 * (fail closed: the old value is gone too). */
typedef struct kw_secret {
	uint8_t *ptr;
	size_t len;
	bool locked;
} kw_secret;

#define KW_SECRET_EMPTY { NULL, 0, false }

/* s holds len zero bytes (len > 0). */
kw_rv kw_secret_alloc(kw_secret *s, size_t len);
/* s holds a copy of p[0..len) (len > 0); p may point into s itself. */
kw_rv kw_secret_set(kw_secret *s, const void *p, size_t len);
void kw_secret_free(kw_secret *s);  /* wipe, unlock, free; leaves s empty */

#endif
