/* keyward-pkcs11: secrets the module holds (the PIN of a context-specific
 * login, the SO's PUK) are replaced, never overwritten while held: run in
 * the sanitizer build (ASAN_OPTIONS=detect_leaks=1), a PIN or PUK that is
 * dropped without being wiped and freed is a leak report and fails the
 * test. The results are checked too: the newest secret is the one used. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_p11_fake.h"

static int
setup(void **state)
{
	(void)state;
	p11f_reset();
	p11f_standard(&p11f_cards[0]);
	setenv("KEYWARD_NO_CACHE", "1", 1);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)C_Finalize(NULL);
	return 0;
}

static CK_RV
login(CK_SESSION_HANDLE s, CK_USER_TYPE u, const char *pin)
{
	return C_Login(s, u, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
}

/* A second C_Login(CKU_CONTEXT_SPECIFIC) before C_Sign replaces the first
 * PIN: that one is wiped and freed, the second is the one sent, once. */
static void
test_context_pin_replaced(void **state)
{
	CK_SESSION_HANDLE s = p11f_open(0, false);
	CK_OBJECT_HANDLE k;
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_BYTE sig[64];
	CK_ULONG len = sizeof(sig);
	unsigned verifies;
	int i;

	(void)state;
	assert_int_equal(login(s, CKU_USER, "123456"), CKR_OK);
	k = p11f_find(s, CKO_PRIVATE_KEY, 2);   /* 9C: PIN always */
	for (i = 0; i < 3; i++) {
		verifies = p11f_cards[0].verifies;
		assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
		assert_int_equal(login(s, CKU_CONTEXT_SPECIFIC, "000000"), CKR_OK);
		assert_int_equal(login(s, CKU_CONTEXT_SPECIFIC, "999999"), CKR_OK);
		assert_int_equal(login(s, CKU_CONTEXT_SPECIFIC, "123456"), CKR_OK);
		len = sizeof(sig);
		assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"msg", 3, sig, &len), CKR_OK);
		assert_int_equal(len, 64);
		assert_int_equal(p11f_cards[0].verifies, verifies + 1);
	}
	/* a login left pending when the operation ends another way */
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	assert_int_equal(login(s, CKU_CONTEXT_SPECIFIC, "123456"), CKR_OK);
	assert_int_equal(login(s, CKU_CONTEXT_SPECIFIC, "123456"), CKR_OK);
	assert_int_equal(C_CloseSession(s), CKR_OK);
}

/* C_SetPIN as SO changes the PUK: the PUK held since C_Login(CKU_SO) is
 * replaced by the new one (the old one wiped and freed), and the new one
 * is what C_InitPIN then uses. */
static void
test_so_puk_replaced(void **state)
{
	CK_SESSION_HANDLE s = p11f_open(0, true);

	(void)state;
	assert_int_equal(login(s, CKU_SO, "12345678"), CKR_OK);
	assert_int_equal(C_SetPIN(s, (CK_UTF8CHAR_PTR)"12345678", 8,
	    (CK_UTF8CHAR_PTR)"87654321", 8), CKR_OK);
	assert_int_equal(C_SetPIN(s, (CK_UTF8CHAR_PTR)"87654321", 8,
	    (CK_UTF8CHAR_PTR)"11223344", 8), CKR_OK);
	assert_string_equal(p11f_cards[0].puk, "11223344");
	assert_int_equal(C_InitPIN(s, (CK_UTF8CHAR_PTR)"654321", 6), CKR_OK);
	assert_string_equal(p11f_cards[0].pin, "654321");
	assert_int_equal(p11f_cards[0].puk_tries, 3);
	assert_int_equal(C_Logout(s), CKR_OK);
	/* the SO's secrets die with the login; a management key as SO PIN too */
	assert_int_equal(login(s, CKU_SO, "11223344"), CKR_OK);
	assert_int_equal(C_CloseSession(s), CKR_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_context_pin_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_so_puk_replaced, setup, teardown),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	p11f_free();
	return rc;
}
