# tests/integration: real pcscd + vpcd + virtual tokens, under keyward-testenv.
# Shell tests source tests/integration/lib.sh. test_keyward_*.sh are listed
# by their own owner's fragment.
check_PROGRAMS += tests/integration/kw_fake_vcard
tests_integration_kw_fake_vcard_SOURCES = tests/integration/kw_fake_vcard.c

KW_INTEGRATION_TESTS = \
	tests/integration/test_testenv.sh \
	tests/integration/test_testenv_vcard.sh \
	tests/integration/test_yubico_piv_tool.sh \
	tests/integration/test_opensc_pkcs11.sh \
	tests/integration/test_ykcs11.sh
TESTS += $(KW_INTEGRATION_TESTS)
EXTRA_DIST += $(KW_INTEGRATION_TESTS) tests/integration/lib.sh tests/integration/pki.sh \
	tests/integration/provision.sh
