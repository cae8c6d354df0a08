/* keyward-pkcs11: life cycle, locking arguments, interfaces, slots,
 * tokens, sessions, hotplug, removal and fork, through the C_* functions
 * over the mock transport with the fake card of test_p11_fake.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_p11_fake.h"

static int
setup(void **state)
{
	(void)state;
	p11f_reset();
	setenv("KEYWARD_NO_CACHE", "1", 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)C_Finalize(NULL);
	return 0;
}

static void
test_init_cycles(void **state)
{
	CK_INFO info;
	CK_SESSION_HANDLE h;
	int i;

	(void)state;
	assert_int_equal(C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	for (i = 0; i < 3; i++) {
		assert_int_equal(C_Initialize(NULL), CKR_OK);
		assert_int_equal(C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
		assert_int_equal(C_GetInfo(&info), CKR_OK);
		assert_int_equal(info.cryptokiVersion.major, 3);
		h = p11f_open(0, false);
		assert_int_equal(C_Finalize((void *)1), CKR_ARGUMENTS_BAD);
		assert_int_equal(C_Finalize(NULL), CKR_OK);
		/* nothing survives the cycle */
		assert_int_equal(C_CloseSession(h), CKR_CRYPTOKI_NOT_INITIALIZED);
	}
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_CloseSession(h), CKR_SESSION_HANDLE_INVALID);
}

static int app_locks, app_unlocks, app_creates;

static CK_RV
app_create(CK_VOID_PTR_PTR m)
{
	app_creates++;
	*m = calloc(1, sizeof(int));
	return CKR_OK;
}

static CK_RV
app_destroy(CK_VOID_PTR m)
{
	free(m);
	return CKR_OK;
}

static CK_RV
app_lock(CK_VOID_PTR m)
{
	int *l = m;
	assert_int_equal(*l, 0);   /* never taken twice */
	*l = 1;
	app_locks++;
	return CKR_OK;
}

static CK_RV
app_unlock(CK_VOID_PTR m)
{
	int *l = m;
	assert_int_equal(*l, 1);
	*l = 0;
	app_unlocks++;
	return CKR_OK;
}

static void
test_locking_args(void **state)
{
	CK_C_INITIALIZE_ARGS a;
	CK_INFO info;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.pReserved = &a;
	assert_int_equal(C_Initialize(&a), CKR_ARGUMENTS_BAD);
	memset(&a, 0, sizeof(a));
	a.CreateMutex = app_create;   /* some but not all */
	assert_int_equal(C_Initialize(&a), CKR_ARGUMENTS_BAD);
	/* case 2: OS locking */
	memset(&a, 0, sizeof(a));
	a.flags = CKF_OS_LOCKING_OK;
	assert_int_equal(C_Initialize(&a), CKR_OK);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	/* case 3: the application's mutexes, used and balanced */
	a.flags = 0;
	a.CreateMutex = app_create;
	a.DestroyMutex = app_destroy;
	a.LockMutex = app_lock;
	a.UnlockMutex = app_unlock;
	app_locks = app_unlocks = app_creates = 0;
	assert_int_equal(C_Initialize(&a), CKR_OK);
	assert_int_equal(C_GetInfo(&info), CKR_OK);
	(void)p11f_open(0, false);
	assert_true(app_creates >= 1);
	assert_true(app_locks > 0);
	assert_int_equal(app_locks, app_unlocks);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	/* case 4: both; the OS is used */
	a.flags = CKF_OS_LOCKING_OK;
	app_locks = app_creates = 0;
	assert_int_equal(C_Initialize(&a), CKR_OK);
	assert_int_equal(C_GetInfo(&info), CKR_OK);
	assert_int_equal(app_locks, 0);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	/* NSS's flags: OS locking, its mutexes, and "cannot create threads":
	 * accepted, OS locking used */
	a.flags = CKF_LIBRARY_CANT_CREATE_OS_THREADS | CKF_OS_LOCKING_OK;
	app_locks = 0;
	setenv("KEYWARD_TRANSPORTS", "pcsc:", 1);
	assert_int_equal(C_Initialize(&a), CKR_OK);
	assert_int_equal(app_locks, 0);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	setenv("KEYWARD_TRANSPORTS", "mock:a,mock:b", 1);
	/* case 1: flags 0, no functions */
	memset(&a, 0, sizeof(a));
	assert_int_equal(C_Initialize(&a), CKR_OK);
}

static void
test_interfaces(void **state)
{
	CK_INTERFACE list[4], *ifc = NULL;
	CK_ULONG n = 0;
	CK_VERSION v240 = { 2, 40 }, v220 = { 2, 20 }, v30 = { 3, 0 }, v99 = { 9, 9 };
	CK_FUNCTION_LIST *fl = NULL;
	CK_FUNCTION_LIST_3_0 *f3;

	(void)state;
	assert_int_equal(C_GetInterfaceList(NULL, &n), CKR_OK);
	assert_int_equal(n, 2);
	n = 1;
	assert_int_equal(C_GetInterfaceList(list, &n), CKR_BUFFER_TOO_SMALL);
	n = 4;
	assert_int_equal(C_GetInterfaceList(list, &n), CKR_OK);
	assert_string_equal((char *)list[0].pInterfaceName, "PKCS 11");
	assert_int_equal(C_GetInterface(NULL, NULL, &ifc, 0), CKR_OK);
	f3 = ifc->pFunctionList;
	assert_int_equal(f3->version.major, 3);
	assert_ptr_equal(f3->C_SessionCancel, C_SessionCancel);
	assert_ptr_equal(f3->C_MessageVerifyFinal, C_MessageVerifyFinal);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR_PTR)"PKCS 11", &v30, &ifc, 0), CKR_OK);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR_PTR)"PKCS 11", &v220, &ifc, 0), CKR_OK);
	assert_ptr_equal(ifc->pFunctionList, list[1].pFunctionList);
	assert_int_equal(((CK_VERSION *)ifc->pFunctionList)->minor, 20);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR_PTR)"PKCS 11", &v240, &ifc, 0), CKR_OK);
	fl = ifc->pFunctionList;
	assert_int_equal(fl->version.minor, 40);
	assert_ptr_equal(fl->C_WaitForSlotEvent, C_WaitForSlotEvent);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR_PTR)"PKCS 11", &v99, &ifc, 0),
	    CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR_PTR)"other", NULL, &ifc, 0), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetFunctionList(&fl), CKR_OK);
	assert_ptr_equal(fl->C_Sign, C_Sign);
	assert_int_equal(C_GetFunctionList(NULL), CKR_ARGUMENTS_BAD);
}

/* Start-up costs SELECT + version + serial once per token, nothing more. */
static void
test_slots_tokens(void **state)
{
	CK_SLOT_ID slots[4];
	CK_ULONG n = 0;
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	char label[33];

	(void)state;
	p11f_standard(&p11f_cards[0]);
	p11f_cards[1].removed = true;     /* reader b is empty */
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	assert_int_equal(n, 2);
	n = 1;
	assert_int_equal(C_GetSlotList(CK_FALSE, slots, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 2);
	n = 4;
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(C_GetTokenInfo(slots[0], &ti), CKR_OK);
	memcpy(label, ti.label, 32);
	label[32] = '\0';
	assert_non_null(strstr(label, "keyward PIV #11111111"));
	assert_memory_equal(ti.serialNumber, "11111111", 8);
	assert_true((ti.flags & CKF_LOGIN_REQUIRED) != 0);
	assert_int_equal(ti.ulMaxSessionCount, CK_EFFECTIVELY_INFINITE);
	assert_int_equal(C_GetSlotInfo(slots[0], &si), CKR_OK);
	assert_true((si.flags & CKF_TOKEN_PRESENT) != 0);
	assert_int_equal(p11f_cards[0].apdus, 3);
	assert_int_equal(p11f_cards[0].get_data, 0);
	assert_int_equal(C_GetSlotInfo(999, &si), CKR_SLOT_ID_INVALID);
	/* a card without PIV: no token, and not asked again while it stays */
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	p11f_cards[0].not_piv = true;
	p11f_cards[0].apdus = 0;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	n = 4;
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 0);
	n = 4;
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	n = 4;
	assert_int_equal(C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
	assert_int_equal(C_GetSlotInfo(slots[0], &si), CKR_OK);
	assert_int_equal(si.flags & CKF_TOKEN_PRESENT, 0);
	assert_int_equal(p11f_cards[0].apdus, 1);
	p11f_cards[0].not_piv = false;
	/* a card without the YubiKey serial is named by its CHUID's GUID */
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	p11f_cards[0].no_serial = true;
	memcpy(p11f_cards[0].guid, "\x01\x23\x45\x67\x89\xab\xcd\xef\x00\x11\x22\x33\x44\x55\x66\x77", 16);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	n = 4;
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(C_GetTokenInfo(slots[0], &ti), CKR_OK);
	assert_memory_equal(ti.label, "keyward PIV #0123456789ABCDEF ", 30);
	assert_memory_equal(ti.serialNumber, "0123456789ABCDEF", 16);
	p11f_cards[0].no_serial = false;
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	n = 4;
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	/* the second token arrives: told apart by serial, first keeps its slot */
	p11f_cards[1].removed = false;
	assert_int_equal(p11f_slot_of(0), slots[0]);
	assert_true(p11f_slot_of(1) != slots[0]);
}

/* C_GetSlotList(TRUE): the fill call gives what the size query counted,
 * without probing again, both ways: a token that could not be reached
 * during the size query and answers at the fill call (which made the fill
 * call return CKR_BUFFER_TOO_SMALL for the size just returned), and one
 * gone in between. */
static void
test_slot_list_agrees(void **state)
{
	CK_SLOT_ID slots[4], first;
	CK_ULONG n = 0;
	unsigned apdus;

	(void)state;
	p11f_standard(&p11f_cards[0]);
	p11f_cards[1].removed = true;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(n, 1);
	p11f_cards[1].removed = false;    /* it answers again */
	apdus = p11f_cards[1].apdus;
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(p11f_cards[1].apdus, apdus);   /* not probed again */
	first = slots[0];
	n = 0;
	assert_int_equal(C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(n, 2);
	p11f_cards[1].removed = true;     /* gone before the fill call */
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(slots[0], first);
	/* a fill call without a size query looks at the tokens */
	n = 4;
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(slots[0], first);
	/* and a size query with the other flag is not used for this one */
	n = 0;
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	assert_int_equal(n, 2);
	n = 1;
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct slow_call {
	pthread_t th;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_RV rv;
} slow_call;

static void *
slow_sign(void *arg)
{
	slow_call *c = arg;
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE sig[256];
	CK_ULONG len = sizeof(sig);

	c->rv = C_SignInit(c->s, &m, c->key);
	if (c->rv == CKR_OK)
		c->rv = C_Sign(c->s, (CK_BYTE_PTR)"slow", 4, sig, &len);
	return NULL;
}

/* Waits for token A's lock (A is busy signing). */
static void *
queued_call(void *arg)
{
	slow_call *c = arg;
	CK_ULONG size;

	c->rv = C_GetObjectSize(c->s, c->key, &size);
	return NULL;
}

/* No lock convoy: while token A signs slowly and another thread waits for
 * token A, calls on token B (and the slot list) go on at once. */
static void
test_no_convoy(void **state)
{
	slow_call a, q;
	CK_SESSION_HANDLE sa, sb, sb2;
	CK_OBJECT_HANDLE kb;
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE sig[256];
	CK_ULONG len, n;
	CK_SLOT_ID slots[4];
	CK_TOKEN_INFO ti;
	CK_SLOT_ID slot_b;
	double t0, worst = 0, t;
	int i, busy;

	(void)state;
	p11f_standard(&p11f_cards[0]);
	p11f_standard(&p11f_cards[1]);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	slot_b = p11f_slot_of(1);
	sa = p11f_open(0, false);
	sb = p11f_open(1, false);
	assert_int_equal(C_Login(sa, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	assert_int_equal(C_Login(sb, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	kb = p11f_find(sb, CKO_PRIVATE_KEY, 1);
	a.s = q.s = sa;
	a.key = q.key = p11f_find(sa, CKO_PRIVATE_KEY, 1);
	p11f_cards[0].gen_auth_delay_ms = 1500;
	assert_int_equal(pthread_create(&a.th, NULL, slow_sign, &a), 0);
	for (i = 0; i < 2000 && !__atomic_load_n(&p11f_cards[0].in_gen_auth, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	assert_true(__atomic_load_n(&p11f_cards[0].in_gen_auth, __ATOMIC_SEQ_CST));
	assert_int_equal(pthread_create(&q.th, NULL, queued_call, &q), 0);
	usleep(50 * 1000);   /* q is now waiting for token A */
	for (i = 0; i < 5; i++) {
		t0 = now_ms();
		len = sizeof(sig);
		assert_int_equal(C_SignInit(sb, &m, kb), CKR_OK);
		assert_int_equal(C_Sign(sb, (CK_BYTE_PTR)"fast", 4, sig, &len), CKR_OK);
		n = 4;
		assert_int_equal(C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
		assert_int_equal(n, 2);
		assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
		assert_int_equal(C_GetTokenInfo(slot_b, &ti), CKR_OK);
		assert_int_equal(C_OpenSession(slot_b, CKF_SERIAL_SESSION, NULL, NULL, &sb2),
		    CKR_OK);
		assert_int_equal(C_CloseSession(sb2), CKR_OK);
		t = now_ms() - t0;
		worst = t > worst ? t : worst;
	}
	busy = __atomic_load_n(&p11f_cards[0].in_gen_auth, __ATOMIC_SEQ_CST);
	pthread_join(a.th, NULL);
	pthread_join(q.th, NULL);
	p11f_cards[0].gen_auth_delay_ms = 0;
	print_message("calls on token B while token A was busy: worst %.1f ms\n", worst);
	assert_true(worst < 300);
	assert_true(busy);   /* all of them ran while A was signing */
	assert_int_equal(a.rv, CKR_OK);
	assert_int_equal(q.rv, CKR_OK);
}

static void
test_sessions(void **state)
{
	CK_SESSION_HANDLE h[200], old;
	CK_SESSION_INFO si;
	CK_TOKEN_INFO ti;
	CK_SLOT_ID slot;
	size_t i;

	(void)state;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	slot = p11f_slot_of(0);
	assert_int_equal(C_OpenSession(slot, 0, NULL, NULL, &h[0]),
	    CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	for (i = 0; i < 200; i++)   /* far more than 16 */
		assert_int_equal(C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h[i]), CKR_OK);
	assert_int_equal(C_GetTokenInfo(slot, &ti), CKR_OK);
	assert_int_equal(ti.ulSessionCount, 200);
	assert_int_equal(C_GetSessionInfo(h[7], &si), CKR_OK);
	assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(si.slotID, slot);
	old = h[7];
	assert_int_equal(C_CloseSession(old), CKR_OK);
	assert_int_equal(C_CloseSession(old), CKR_SESSION_HANDLE_INVALID);
	/* the freed index is reused with a new generation: the old handle stays dead */
	assert_int_equal(C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	    &h[7]), CKR_OK);
	assert_true(h[7] != old);
	assert_int_equal(C_GetSessionInfo(old, &si), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_GetSessionInfo(h[7], &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_PUBLIC_SESSION);
	assert_int_equal(C_CloseAllSessions(slot), CKR_OK);
	assert_int_equal(C_GetSessionInfo(h[8], &si), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_GetTokenInfo(slot, &ti), CKR_OK);
	assert_int_equal(ti.ulSessionCount, 0);
}

static void
test_removal(void **state)
{
	CK_SESSION_HANDLE s, s2;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE sig[256];
	CK_ULONG siglen = sizeof(sig), n = 4;
	CK_SLOT_ID slots[4], slot;
	CK_SESSION_INFO si;

	(void)state;
	p11f_standard(&p11f_cards[0]);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	slot = p11f_slot_of(0);
	s = p11f_open(0, false);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	key = p11f_find(s, CKO_PRIVATE_KEY, 1);
	assert_int_equal(C_SignInit(s, &m, key), CKR_OK);
	p11f_cards[0].removed = true;
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"x", 1, sig, &siglen), CKR_DEVICE_REMOVED);
	assert_int_equal(C_GetSessionInfo(s, &si), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);   /* only card b */
	assert_int_equal(C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s2),
	    CKR_TOKEN_NOT_PRESENT);
	/* re-inserted: same slot, works again, login needed again */
	p11f_cards[0].removed = false;
	assert_int_equal(C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s2), CKR_OK);
	assert_int_equal(p11f_find(s2, CKO_PRIVATE_KEY, 1), CK_INVALID_HANDLE);
	assert_int_equal(C_Login(s2, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	key = p11f_find(s2, CKO_PRIVATE_KEY, 1);
	assert_int_not_equal(key, CK_INVALID_HANDLE);
	assert_int_equal(C_SignInit(s2, &m, key), CKR_OK);
	siglen = sizeof(sig);
	assert_int_equal(C_Sign(s2, (CK_BYTE_PTR)"x", 1, sig, &siglen), CKR_OK);
}

/* A reset (the same token back at once, e.g. reset by another process):
 * the operation fails with CKR_DEVICE_ERROR (not CKR_DEVICE_REMOVED, which
 * would tell the application its sessions are gone), sessions stay, logins
 * are gone. */
static void
test_reset(void **state)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE sig[256];
	CK_ULONG siglen = sizeof(sig);
	CK_SESSION_INFO si;

	(void)state;
	p11f_standard(&p11f_cards[0]);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = p11f_open(0, false);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	key = p11f_find(s, CKO_PRIVATE_KEY, 1);
	assert_int_equal(C_SignInit(s, &m, key), CKR_OK);
	p11f_cards[0].reset_once = true;
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"x", 1, sig, &siglen), CKR_DEVICE_ERROR);
	assert_int_equal(C_GetSessionInfo(s, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(C_SignInit(s, &m, key), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	assert_int_equal(C_SignInit(s, &m, key), CKR_OK);
	siglen = sizeof(sig);
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"x", 1, sig, &siglen), CKR_OK);
}

/* A lost link (a BLE key disconnecting, a token pulled and put back) is a
 * removal even when the same token answers again at once: the operation
 * and the sessions are gone, a new session works. */
static void
test_drop_is_removal(void **state)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE sig[256];
	CK_ULONG siglen = sizeof(sig);
	CK_SESSION_INFO si;

	(void)state;
	p11f_standard(&p11f_cards[0]);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = p11f_open(0, false);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	key = p11f_find(s, CKO_PRIVATE_KEY, 1);
	assert_int_equal(C_SignInit(s, &m, key), CKR_OK);
	p11f_cards[0].drop_once = true;
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"x", 1, sig, &siglen), CKR_DEVICE_REMOVED);
	assert_int_equal(C_GetSessionInfo(s, &si), CKR_SESSION_HANDLE_INVALID);
	s = p11f_open(0, false);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	key = p11f_find(s, CKO_PRIVATE_KEY, 1);
	assert_int_equal(C_SignInit(s, &m, key), CKR_OK);
	siglen = sizeof(sig);
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"x", 1, sig, &siglen), CKR_OK);
}

static void
test_slot_events(void **state)
{
	CK_SLOT_ID slot, a, b;

	(void)state;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	a = p11f_slot_of(0);
	b = p11f_slot_of(1);
	/* the two new slots are events, then nothing */
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_OK);
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_OK);
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
	p11f_cards[1].removed = true;
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_OK);
	assert_int_equal(slot, b);
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
	p11f_cards[1].removed = false;
	assert_int_equal(C_WaitForSlotEvent(0, &slot, NULL), CKR_OK);   /* blocking */
	assert_int_equal(slot, b);
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
	(void)a;
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, (void *)1), CKR_ARGUMENTS_BAD);
}

static void
test_fork(void **state)
{
	CK_INFO info;
	pid_t pid;
	int st = 0;

	(void)state;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	(void)p11f_open(0, false);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child: parent's state is not usable, a fresh init works */
		int ok = C_GetInfo(&info) == CKR_CRYPTOKI_NOT_INITIALIZED &&
		    C_Finalize(NULL) == CKR_CRYPTOKI_NOT_INITIALIZED &&
		    C_Initialize(NULL) == CKR_OK && C_GetInfo(&info) == CKR_OK &&
		    C_Finalize(NULL) == CKR_OK;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(C_GetInfo(&info), CKR_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locking_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interfaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_list_agrees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_convoy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_is_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	p11f_free();
	return rc;
}
