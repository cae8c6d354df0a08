# kms: keyward-kmsd (front and share roles), its client library libkwkms,
# tests. Sources are in a convenience library so unit tests reach them.
KMS_DEP_CFLAGS = $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) $(MHD_CFLAGS) $(CURL_CFLAGS) \
	$(SQLITE_CFLAGS) $(ARGON2_CFLAGS) $(P11KIT_CFLAGS)
KMS_DEP_LIBS = $(CRYPTO_LIBS) $(JANSSON_LIBS) $(MHD_LIBS) $(CURL_LIBS) \
	$(SQLITE_LIBS) $(ARGON2_LIBS) -ldl -lpthread

noinst_LTLIBRARIES += kms/libkmsd.la
kms_libkmsd_la_SOURCES = \
	kms/kms.h kms/kms_api.h kms/kms_http.h kms/kms_config.h kms/kms_hsm.h \
	kms/kms_p11util.h kms/kms_ca.h kms/kms_ca_int.h kms/kms_tls.h \
	kms/kms_escrow.h kms/kms_share_client.h kms/kms_password.h kms/kms_attest.h \
	kms/kms_config.c kms/kms_util.c kms/kms_store.c kms/kms_hsm.c \
	kms/kms_p11util.c kms/kms_split.c kms/kms_audit.c kms/kms_ctx.c \
	kms/kms_init.c kms/kms_tls.c kms/kms_ca.c kms/kms_ca_sign.c \
	kms/kms_http.c kms/kms_pool.c kms/kms_share_server.c \
	kms/kms_share_client.c kms/kms_escrow.c kms/kms_rotation.c \
	kms/kms_email.c kms/kms_password.c kms/kms_api_session.c \
	kms/kms_api_front.c kms/kms_api_certs.c kms/kms_api_keys.c \
	kms/kms_api_admin.c kms/kms_directory.c kms/kms_attest.c
kms_libkmsd_la_CFLAGS = $(AM_CFLAGS) $(KMS_DEP_CFLAGS)

bin_PROGRAMS += kms/keyward-kmsd
kms_keyward_kmsd_SOURCES = kms/kmsd_main.c
kms_keyward_kmsd_CFLAGS = $(AM_CFLAGS) $(KMS_DEP_CFLAGS)
kms_keyward_kmsd_LDADD = kms/libkmsd.la src/libkeyward.la $(KMS_DEP_LIBS)

KMS_SH_TESTS = tests/kms/kms-init.sh tests/kms/kms-validation.sh \
	tests/kms/kms-password.sh tests/kms/kms-issue.sh tests/kms/kms-delivery.sh \
	tests/kms/kms-crl.sh tests/kms/kms-scan.sh tests/kms/kms-p256.sh
TESTS += $(KMS_SH_TESTS)
EXTRA_DIST += $(KMS_SH_TESTS) tests/kms/kms-env.sh tests/kms/smtp_sink.py \
	tests/kms/scan_keys.py kms/bench-kms.sh

# cmocka unit tests of kms internals
KMS_UNIT_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/kms $(CMOCKA_CFLAGS) $(KMS_DEP_CFLAGS)
KMS_UNIT_LDADD = kms/libkmsd.la src/libkeyward.la $(CMOCKA_LIBS) $(KMS_DEP_LIBS)
check_PROGRAMS += tests/unit/test_kms_split tests/unit/test_kms_config \
	tests/unit/test_kms_hsm tests/unit/test_kms_audit
TESTS += tests/unit/test_kms_split tests/unit/test_kms_config tests/unit/test_kms_hsm \
	tests/unit/test_kms_audit
tests_unit_test_kms_split_SOURCES = tests/unit/test_kms_split.c
tests_unit_test_kms_split_CFLAGS = $(KMS_UNIT_CFLAGS)
tests_unit_test_kms_split_LDADD = $(KMS_UNIT_LDADD)
tests_unit_test_kms_config_SOURCES = tests/unit/test_kms_config.c
tests_unit_test_kms_config_CFLAGS = $(KMS_UNIT_CFLAGS)
tests_unit_test_kms_config_LDADD = $(KMS_UNIT_LDADD)
tests_unit_test_kms_hsm_SOURCES = tests/unit/test_kms_hsm.c
tests_unit_test_kms_hsm_CFLAGS = $(KMS_UNIT_CFLAGS)
tests_unit_test_kms_hsm_LDADD = $(KMS_UNIT_LDADD)
tests_unit_test_kms_audit_SOURCES = tests/unit/test_kms_audit.c
tests_unit_test_kms_audit_CFLAGS = $(KMS_UNIT_CFLAGS)
tests_unit_test_kms_audit_LDADD = $(KMS_UNIT_LDADD)
