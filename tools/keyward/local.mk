# tools/keyward: the `keyward` CLI. main.c dispatches verbs; one file per
# verb (cmd_*.c); shared helpers for token selection, probing and output;
# the enrollment (cli_enroll*.c, cli_admin.c, cli_csr.c, cli_journal.c,
# cli_input.c, cli_batch.c) talks to the KMS through libkwkms.
bin_PROGRAMS += tools/keyward/keyward
tools_keyward_keyward_SOURCES = \
	tools/keyward/main.c tools/keyward/kwcli.h tools/keyward/kwenroll.h \
	tools/keyward/cli_token.c tools/keyward/cli_probe.c tools/keyward/cli_out.c \
	tools/keyward/cmd_list.c tools/keyward/cmd_status.c \
	tools/keyward/cmd_enroll.c tools/keyward/cmd_pin.c tools/keyward/cmd_reset.c \
	tools/keyward/cli_enroll.c tools/keyward/cli_enroll_sign.c \
	tools/keyward/cli_enroll_keys.c tools/keyward/cli_batch.c \
	tools/keyward/cli_admin.c tools/keyward/cli_csr.c tools/keyward/cli_journal.c \
	tools/keyward/cli_input.c tools/keyward/cli_kms.c
tools_keyward_keyward_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/kms/client \
	$(JANSSON_CFLAGS) $(CRYPTO_CFLAGS) $(PCSC_CFLAGS) $(CURL_CFLAGS)
tools_keyward_keyward_LDADD = drivers/libkwdrivers.la kms/client/libkwkms.la \
	src/libkeyward.la $(JANSSON_LIBS) $(CRYPTO_LIBS) $(PCSC_LIBS) $(CURL_LIBS)

# Integration tests (real pcscd + vpcd + keyward-vcard): list/status under
# keyward-testenv; the pcsc transport (restart, removal, hotplug) in its own
# namespace with drivers/pcsc/kw-pcsc-probe; enrollment against a real KMS
# (front + 2 share servers + SMTP sink, tests/kms/kms-env.sh) and the admin
# verbs. All skip (77) when they cannot run.
KEYWARD_ITESTS = tests/integration/test_keyward_list.sh \
	tests/integration/test_keyward_pcsc.sh \
	tests/integration/test_enroll_flow.sh \
	tests/integration/test_enroll_resume.sh \
	tests/integration/test_enroll_sim.sh \
	tests/integration/test_enroll_legacy.sh \
	tests/integration/test_enroll_firstuse.sh \
	tests/integration/test_keyward_admin.sh
TESTS += $(KEYWARD_ITESTS)
EXTRA_DIST += $(KEYWARD_ITESTS) tests/integration/enroll-lib.sh

# Unit tests of the CLI's pieces (cmocka): the token-signed CSR over a fake
# PIV card, the journal and the secret/line input.
KWCLI_TEST_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tools/keyward -I$(top_srcdir)/kms/client \
	$(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS)
KWCLI_TEST_LDADD = drivers/libkwdrivers.la src/libkeyward.la $(PCSC_LIBS) $(CMOCKA_LIBS) $(CRYPTO_LIBS) $(JANSSON_LIBS) $(ZLIB_LIBS)

check_PROGRAMS += tests/unit/test_cli_csr
tests_unit_test_cli_csr_SOURCES = tests/unit/test_cli_csr.c tests/unit/piv_fake.c \
	tests/unit/piv_fake.h tools/keyward/cli_csr.c tools/keyward/cli_admin.c
tests_unit_test_cli_csr_CFLAGS = $(KWCLI_TEST_CFLAGS)
tests_unit_test_cli_csr_LDADD = $(KWCLI_TEST_LDADD)
TESTS += tests/unit/test_cli_csr

check_PROGRAMS += tests/unit/test_cli_journal
tests_unit_test_cli_journal_SOURCES = tests/unit/test_cli_journal.c \
	tools/keyward/cli_journal.c tools/keyward/cli_input.c
tests_unit_test_cli_journal_CFLAGS = $(KWCLI_TEST_CFLAGS)
tests_unit_test_cli_journal_LDADD = $(KWCLI_TEST_LDADD)
TESTS += tests/unit/test_cli_journal
