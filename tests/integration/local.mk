# tests/integration: real pcscd + vpcd + virtual tokens, under keyward-testenv.
# Shell tests source tests/integration/lib.sh. test_keyward_*.sh are listed
# by their own owner's fragment.
check_PROGRAMS += tests/integration/kw_fake_vcard
tests_integration_kw_fake_vcard_SOURCES = tests/integration/kw_fake_vcard.c

# Many signatures (or logins) in one process, each verified: the transport
# fault tests (test_sim_modem.sh, test_pcsc_faults.sh).
check_PROGRAMS += tests/integration/kw_p11_signloop
tests_integration_kw_p11_signloop_SOURCES = tests/integration/kw_p11_signloop.c \
	tests/interop/p11_util.c tests/interop/p11_util.h
tests_integration_kw_p11_signloop_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS) $(CRYPTO_CFLAGS)
tests_integration_kw_p11_signloop_LDADD = $(CRYPTO_LIBS) -ldl

KW_INTEGRATION_TESTS = \
	tests/integration/test_testenv.sh \
	tests/integration/test_testenv_vcard.sh \
	tests/integration/test_yubico_piv_tool.sh \
	tests/integration/test_opensc_pkcs11.sh \
	tests/integration/test_ykcs11.sh \
	tests/integration/test_pcsc_faults.sh
TESTS += $(KW_INTEGRATION_TESTS)
EXTRA_DIST += $(KW_INTEGRATION_TESTS) tests/integration/lib.sh tests/integration/pki.sh \
	tests/integration/provision.sh
