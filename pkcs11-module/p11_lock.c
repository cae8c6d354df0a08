/* C_Initialize's locking cases (PKCS#11 v3.0 base, section 5.4), one by one:
 *
 * 1. flags without CKF_OS_LOCKING_OK, no mutex functions: the application
 *    promises not to call concurrently. We still lock with OS primitives
 *    (harmless, and protects against applications that break the promise).
 * 2. CKF_OS_LOCKING_OK, no mutex functions: OS primitives (pthread).
 * 3. no CKF_OS_LOCKING_OK, all four mutex functions: the application's.
 * 4. CKF_OS_LOCKING_OK and all four functions: either; we use the OS.
 * Some but not all four functions: CKR_ARGUMENTS_BAD. pReserved set:
 * CKR_ARGUMENTS_BAD. CKF_LIBRARY_CANT_CREATE_OS_THREADS is accepted: the
 * module itself creates no threads (the PC/SC transport's bounded wait for
 * another process's transaction uses a short-lived watchdog thread). NSS
 * passes that flag on every load and, refused, falls back to treating the
 * module as not thread-safe, which deadlocks its own CKA_ALWAYS_AUTHENTICATE
 * path. CKR_CANT_LOCK would be returned only by a module unable to lock,
 * which we are not. */
#include <pthread.h>
#include <stdlib.h>

#include "p11_int.h"

static CK_RV
os_create(CK_VOID_PTR_PTR out)
{
	pthread_mutex_t *m;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((m = malloc(sizeof(*m))) == NULL)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init(m, NULL) != 0) {
		free(m);
		return CKR_CANT_LOCK;
	}
	*out = m;
	return CKR_OK;
}

static CK_RV
os_destroy(CK_VOID_PTR m)
{
	if (m == NULL)
		return CKR_MUTEX_BAD;
	pthread_mutex_destroy(m);
	free(m);
	return CKR_OK;
}

static CK_RV
os_lock(CK_VOID_PTR m)
{
	return m != NULL && pthread_mutex_lock(m) == 0 ? CKR_OK : CKR_MUTEX_BAD;
}

static CK_RV
os_unlock(CK_VOID_PTR m)
{
	return m != NULL && pthread_mutex_unlock(m) == 0 ? CKR_OK : CKR_MUTEX_NOT_LOCKED;
}

static const kwp11_lockops os_ops = { os_create, os_destroy, os_lock, os_unlock };

CK_RV
kwp11_lock_configure(const CK_C_INITIALIZE_ARGS *a, kwp11_lockops *out)
{
	int nfn;

	*out = os_ops;
	if (a == NULL)
		return CKR_OK;                          /* case 1 without args */
	if (a->pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	nfn = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) +
	    (a->LockMutex != NULL) + (a->UnlockMutex != NULL);
	if (nfn != 0 && nfn != 4)
		return CKR_ARGUMENTS_BAD;
	if (nfn == 0 || (a->flags & CKF_OS_LOCKING_OK) != 0)
		return CKR_OK;                          /* cases 1, 2, 4 */
	out->create = a->CreateMutex;               /* case 3 */
	out->destroy = a->DestroyMutex;
	out->lock = a->LockMutex;
	out->unlock = a->UnlockMutex;
	return CKR_OK;
}

CK_RV
kwp11_mutex_new(const kwp11_lockops *ops, void **m)
{
	*m = NULL;
	return ops->create(m);
}

void
kwp11_mutex_free(const kwp11_lockops *ops, void **m)
{
	if (*m != NULL)
		ops->destroy(*m);
	*m = NULL;
}

void
kwp11_mutex_lock(const kwp11_lockops *ops, void *m)
{
	(void)ops->lock(m);
}

void
kwp11_mutex_unlock(const kwp11_lockops *ops, void *m)
{
	(void)ops->unlock(m);
}
