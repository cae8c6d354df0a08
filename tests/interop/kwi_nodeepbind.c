/* LD_PRELOAD helper for sanitizer builds only: pkcs11-provider dlopen()s
 * the PKCS#11 module with RTLD_DEEPBIND, which the ASan runtime refuses
 * (google/sanitizers#611). Preloaded before libasan (with
 * ASAN_OPTIONS=verify_asan_link_order=0), this dlopen drops that flag and
 * hands the call on to the next dlopen (ASan's interceptor, then libc's).
 * Nothing else changes; the module under test is the real one. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stddef.h>

void *
dlopen(const char *file, int flags)
{
	static void *(*next)(const char *, int);

	if (next == NULL)
		next = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	if (next == NULL)
		return NULL;
	return next(file, flags & ~RTLD_DEEPBIND);
}
