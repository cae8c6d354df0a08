/* p11-hotplug-check: drives keyward-pkcs11.so (dlopen, as applications do)
 * through a card removal and re-insertion that the calling test performs
 * with the two shell commands given, and through C_Finalize waking a
 * blocked C_WaitForSlotEvent. Used by tests/integration/test_p11_basic.sh.
 *
 *   p11-hotplug-check MODULE PIN READER-B REMOVE-CMD INSERT-CMD
 *
 * Needs two tokens with a 9A key (CKA_ID 01) each; token "B" is the one in
 * the reader whose name is READER-B. Exit 0 when every step behaved. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "p11_v3.h"

static CK_FUNCTION_LIST *f;
static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); failures++; } \
	else { fprintf(stderr, "ok: " __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

typedef struct waiter {
	pthread_t th;
	CK_SLOT_ID slot;
	CK_RV rv;
	volatile int done;
} waiter;

static void *
wait_main(void *arg)
{
	waiter *w = arg;

	w->rv = f->C_WaitForSlotEvent(0, &w->slot, NULL);
	w->done = 1;
	return NULL;
}

static void
wait_start(waiter *w)
{
	memset(w, 0, sizeof(*w));
	if (pthread_create(&w->th, NULL, wait_main, w) != 0)
		exit(2);
}

/* Join within ms milliseconds; 0 if the thread is still blocked. */
static int
wait_join(waiter *w, int ms)
{
	const struct timespec ts = { 0, 50 * 1000 * 1000 };
	int i;

	for (i = 0; i < ms / 50 && !w->done; i++)
		nanosleep(&ts, NULL);
	if (!w->done)
		return 0;
	pthread_join(w->th, NULL);
	return 1;
}

static CK_RV
sign_once(CK_SLOT_ID slot, const char *pin, CK_SESSION_HANDLE *out, int sign)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_BYTE id = 1, sig[512];
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, &id, 1 } };
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_OBJECT_HANDLE key;
	CK_ULONG n = 0, len = sizeof(sig);
	CK_SESSION_HANDLE s;
	CK_RV rv;

	if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK)
		return rv;
	*out = s;
	rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return rv;
	if ((rv = f->C_FindObjectsInit(s, t, 2)) != CKR_OK ||
	    (rv = f->C_FindObjects(s, &key, 1, &n)) != CKR_OK ||
	    (rv = f->C_FindObjectsFinal(s)) != CKR_OK)
		return rv;
	if (n != 1)
		return CKR_KEY_HANDLE_INVALID;
	if ((rv = f->C_SignInit(s, &m, key)) != CKR_OK || !sign)
		return rv;
	return f->C_Sign(s, (CK_BYTE_PTR)"hotplug", 7, sig, &len);
}

static int
token_slots(CK_SLOT_ID *slots, CK_ULONG max)
{
	CK_ULONG n = 0;

	if (f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n > max)
		return -1;
	if (f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return -1;
	return (int)n;
}

int
main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS ia = { 0 };
	CK_RV (*gfl)(CK_FUNCTION_LIST_PTR_PTR);
	CK_SLOT_ID slots[16], a, b, ev;
	CK_SLOT_INFO si;
	CK_SESSION_HANDLE s;
	waiter w;
	void *h;
	int n;

	if (argc != 6) {
		fprintf(stderr, "usage: p11-hotplug-check MODULE PIN READER-B REMOVE-CMD INSERT-CMD\n");
		return 2;
	}
	if ((h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (gfl = (CK_RV (*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(h, "C_GetFunctionList")) == NULL ||
	    gfl(&f) != CKR_OK) {
		fprintf(stderr, "cannot load %s\n", argv[1]);
		return 2;
	}
	ia.flags = CKF_OS_LOCKING_OK;
	CHECK(f->C_Initialize(&ia) == CKR_OK, "C_Initialize");
	n = token_slots(slots, 16);
	CHECK(n == 2, "two tokens (%d)", n);
	if (n != 2)
		return 1;
	b = slots[0];
	a = slots[1];
	if (f->C_GetSlotInfo(slots[1], &si) == CKR_OK &&
	    memcmp(si.slotDescription, argv[3], strlen(argv[3]) < 64 ? strlen(argv[3]) : 64) == 0) {
		b = slots[1];
		a = slots[0];
	}
	CHECK(sign_once(b, argv[2], &s, 0) == CKR_OK, "session, login, C_SignInit on token B");
	while (f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL) == CKR_OK)
		;   /* start-up events */
	/* removal: a blocked C_WaitForSlotEvent reports B's slot */
	wait_start(&w);
	CHECK(system(argv[4]) == 0, "remove command");
	CHECK(wait_join(&w, 5000) && w.rv == CKR_OK && w.slot == b,
	    "removal event for slot %lu (rv 0x%lx, slot %lu)", (unsigned long)b,
	    (unsigned long)w.rv, (unsigned long)w.slot);
	{
		CK_RV rv = f->C_GetSlotInfo(b, &si);

		CHECK(rv == CKR_OK && (si.flags & CKF_TOKEN_PRESENT) == 0,
		    "slot B reports no token (rv 0x%lx, flags 0x%lx)", (unsigned long)rv,
		    (unsigned long)si.flags);
	}
	{
		CK_BYTE sig[512];
		CK_ULONG len = sizeof(sig);
		CK_RV rv = f->C_Sign(s, (CK_BYTE_PTR)"x", 1, sig, &len);

		CHECK(rv == CKR_DEVICE_REMOVED || rv == CKR_SESSION_HANDLE_INVALID ||
		    rv == CKR_TOKEN_NOT_PRESENT, "C_Sign after removal: rv 0x%lx", (unsigned long)rv);
	}
	CHECK(sign_once(a, argv[2], &s, 1) == CKR_OK, "token A still signs");
	/* re-insertion: event, and the token works without restarting */
	wait_start(&w);
	CHECK(system(argv[5]) == 0, "insert command");
	CHECK(wait_join(&w, 8000) && w.rv == CKR_OK && w.slot == b,
	    "insertion event for slot %lu (rv 0x%lx)", (unsigned long)b, (unsigned long)w.rv);
	CHECK(sign_once(b, argv[2], &s, 1) == CKR_OK, "token B signs again after re-insertion");
	/* C_Finalize wakes a blocked waiter */
	wait_start(&w);
	CHECK(!wait_join(&w, 300), "C_WaitForSlotEvent blocks without events");
	CHECK(f->C_Finalize(NULL) == CKR_OK, "C_Finalize");
	CHECK(wait_join(&w, 3000) && w.rv == CKR_CRYPTOKI_NOT_INITIALIZED,
	    "C_Finalize woke the waiter (rv 0x%lx)", (unsigned long)w.rv);
	dlclose(h);
	return failures == 0 ? 0 : 1;
}
