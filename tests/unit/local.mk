# tests/unit: cmocka unit tests, one test_<file>.c per source file.
KW_UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS)
KW_UNIT_LDADD = drivers/libkwdrivers.la src/libkeyward.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)

check_PROGRAMS += tests/unit/test_tlv
tests_unit_test_tlv_SOURCES = tests/unit/test_tlv.c
tests_unit_test_tlv_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_tlv_LDADD = $(KW_UNIT_LDADD)
TESTS += tests/unit/test_tlv

check_PROGRAMS += tests/unit/test_apdu
tests_unit_test_apdu_SOURCES = tests/unit/test_apdu.c
tests_unit_test_apdu_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_apdu_LDADD = $(KW_UNIT_LDADD)
TESTS += tests/unit/test_apdu

KW_PIV_TEST_SOURCES = tests/unit/piv_fake.c tests/unit/piv_fake.h
KW_PIV_TEST_LDADD = $(KW_UNIT_LDADD) $(ZLIB_LIBS)

check_PROGRAMS += tests/unit/test_piv
tests_unit_test_piv_SOURCES = tests/unit/test_piv.c $(KW_PIV_TEST_SOURCES)
tests_unit_test_piv_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_piv_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv

check_PROGRAMS += tests/unit/test_piv_xfer
tests_unit_test_piv_xfer_SOURCES = tests/unit/test_piv_xfer.c
tests_unit_test_piv_xfer_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_piv_xfer_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv_xfer

check_PROGRAMS += tests/unit/test_piv_cert
tests_unit_test_piv_cert_SOURCES = tests/unit/test_piv_cert.c $(KW_PIV_TEST_SOURCES)
tests_unit_test_piv_cert_CFLAGS = $(KW_UNIT_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_test_piv_cert_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv_cert

check_PROGRAMS += tests/unit/test_piv_mgmt
tests_unit_test_piv_mgmt_SOURCES = tests/unit/test_piv_mgmt.c $(KW_PIV_TEST_SOURCES)
tests_unit_test_piv_mgmt_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_piv_mgmt_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv_mgmt

check_PROGRAMS += tests/unit/test_piv_keys
tests_unit_test_piv_keys_SOURCES = tests/unit/test_piv_keys.c $(KW_PIV_TEST_SOURCES)
tests_unit_test_piv_keys_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_piv_keys_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv_keys

check_PROGRAMS += tests/unit/test_piv_import
tests_unit_test_piv_import_SOURCES = tests/unit/test_piv_import.c $(KW_PIV_TEST_SOURCES)
tests_unit_test_piv_import_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_piv_import_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv_import

check_PROGRAMS += tests/unit/test_buf tests/unit/test_log tests/unit/test_secret \
	tests/unit/test_transport
tests_unit_test_buf_SOURCES = tests/unit/test_buf.c
tests_unit_test_buf_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_buf_LDADD = $(KW_UNIT_LDADD)
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_log_LDADD = $(KW_UNIT_LDADD)
tests_unit_test_secret_SOURCES = tests/unit/test_secret.c
tests_unit_test_secret_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_secret_LDADD = $(KW_UNIT_LDADD)
tests_unit_test_transport_SOURCES = tests/unit/test_transport.c
tests_unit_test_transport_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_transport_LDADD = $(KW_UNIT_LDADD)
TESTS += tests/unit/test_buf tests/unit/test_log tests/unit/test_secret \
	tests/unit/test_transport

check_PROGRAMS += tests/unit/test_piv_obj
tests_unit_test_piv_obj_SOURCES = tests/unit/test_piv_obj.c $(KW_PIV_TEST_SOURCES)
tests_unit_test_piv_obj_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_piv_obj_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv_obj

check_PROGRAMS += tests/unit/test_piv_admin
tests_unit_test_piv_admin_SOURCES = tests/unit/test_piv_admin.c $(KW_PIV_TEST_SOURCES)
tests_unit_test_piv_admin_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_piv_admin_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv_admin

check_PROGRAMS += tests/unit/test_piv_robust
tests_unit_test_piv_robust_SOURCES = tests/unit/test_piv_robust.c $(KW_PIV_TEST_SOURCES)
tests_unit_test_piv_robust_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_piv_robust_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv_robust

check_PROGRAMS += tests/unit/test_piv_replay
tests_unit_test_piv_replay_SOURCES = tests/unit/test_piv_replay.c $(KW_PIV_TEST_SOURCES)
tests_unit_test_piv_replay_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_test_piv_replay_LDADD = $(KW_PIV_TEST_LDADD)
TESTS += tests/unit/test_piv_replay
EXTRA_DIST += tests/unit/transcripts/yk5-status.apdu tests/unit/transcripts/sign-chained.apdu \
	tests/unit/transcripts/errors.apdu

# The PIV client against keyward-vcard on a private pcscd (keyward-testenv).
check_PROGRAMS += tests/unit/piv_live
tests_unit_piv_live_SOURCES = tests/unit/piv_live.c
tests_unit_piv_live_CFLAGS = $(KW_UNIT_CFLAGS)
tests_unit_piv_live_LDADD = $(KW_UNIT_LDADD)
TESTS += tests/unit/test_piv_vcard.sh
EXTRA_DIST += tests/unit/test_piv_vcard.sh
