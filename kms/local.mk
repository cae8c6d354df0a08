# kms: keyward-kmsd (front and share roles), its client library libkwkms,
# tests. Sources are in a convenience library so unit tests reach them.
KMS_DEP_CFLAGS = $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) $(MHD_CFLAGS) $(CURL_CFLAGS) \
	$(SQLITE_CFLAGS) $(ARGON2_CFLAGS) $(P11KIT_CFLAGS)
KMS_DEP_LIBS = $(CRYPTO_LIBS) $(JANSSON_LIBS) $(MHD_LIBS) $(CURL_LIBS) \
	$(SQLITE_LIBS) $(ARGON2_LIBS) -ldl -lpthread

# The layers a request crosses, one directory each (see kms/kms.h):
# http -> api -> service -> store (store/sqlite) ; hsm, share beside; base.
KMS_INC = -I$(top_srcdir)/kms -I$(top_srcdir)/kms/base -I$(top_srcdir)/kms/http \
	-I$(top_srcdir)/kms/api -I$(top_srcdir)/kms/service -I$(top_srcdir)/kms/store \
	-I$(top_srcdir)/kms/hsm -I$(top_srcdir)/kms/share
KMS_DEP_CFLAGS += $(KMS_INC)

noinst_LTLIBRARIES += kms/libkmsd.la
kms_libkmsd_la_SOURCES = kms/kms.h kms/kms_ctx.c kms/kms_init.c \
	kms/base/kms_base.h kms/base/kms_config.h kms/base/kms_config.c \
	kms/base/kms_util.c kms/base/kms_split.c \
	kms/http/kms_http.h kms/http/kms_http.c kms/http/kms_tls.h kms/http/kms_tls.c \
	kms/api/kms_api.h kms/api/kms_api_front.c kms/api/kms_api_session.c \
	kms/api/kms_api_validation.c kms/api/kms_api_certs.c kms/api/kms_api_keys.c \
	kms/api/kms_api_admin.c \
	kms/service/kms_service.h kms/service/kms_ca.h kms/service/kms_ca_int.h \
	kms/service/kms_ca.c kms/service/kms_ca_sign.c kms/service/kms_certs.c \
	kms/service/kms_attest.c kms/service/kms_session.c kms/service/kms_validation.c \
	kms/service/kms_mailer.c kms/service/kms_password.c kms/service/kms_escrow.c \
	kms/service/kms_delivery.c kms/service/kms_pool.c kms/service/kms_monitor.c \
	kms/store/kms_store.h kms/store/kms_store_int.h kms/store/kms_store.c \
	kms/store/kms_store_keys.c kms/store/kms_audit.c kms/store/sqlite/kms_store_sqlite.c \
	kms/hsm/kms_hsm.h kms/hsm/kms_hsm.c kms/hsm/kms_p11util.h kms/hsm/kms_p11util.c \
	kms/share/kms_share_client.h kms/share/kms_share_client.c \
	kms/share/kms_share_server.h kms/share/kms_share_server.c
kms_libkmsd_la_CFLAGS = $(AM_CFLAGS) $(KMS_DEP_CFLAGS)

bin_PROGRAMS += kms/keyward-kmsd
kms_keyward_kmsd_SOURCES = kms/kmsd_main.c
kms_keyward_kmsd_CFLAGS = $(AM_CFLAGS) $(KMS_DEP_CFLAGS)
kms_keyward_kmsd_LDADD = kms/libkmsd.la src/libkeyward.la $(KMS_DEP_LIBS)

KMS_SH_TESTS = tests/kms/kms-init.sh tests/kms/kms-validation.sh \
	tests/kms/kms-password.sh tests/kms/kms-issue.sh tests/kms/kms-delivery.sh \
	tests/kms/kms-crl.sh tests/kms/kms-scan.sh tests/kms/kms-p256.sh \
	tests/kms/kms-service.sh tests/kms/kms-audit-full.sh tests/kms/kms-crash.sh
TESTS += $(KMS_SH_TESTS)
EXTRA_DIST += $(KMS_SH_TESTS) tests/kms/kms-env.sh tests/kms/smtp_sink.py \
	tests/kms/scan_keys.py tests/kms/abuse.py kms/bench-kms.sh kms/bench_client.py

# cmocka unit tests of kms internals
KMS_UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(KMS_DEP_CFLAGS)
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
