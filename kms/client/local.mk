# kms/client: libkwkms, the KMS client library `keyward enroll` links, and
# kwkms-tool (a test driver of it). Built with or without --disable-kms.
noinst_LTLIBRARIES += kms/client/libkwkms.la
kms_client_libkwkms_la_SOURCES = kms/client/kwkms.h kms/client/kwkms_int.h \
	kms/client/kwkms.c kms/client/kwkms_keys.c
kms_client_libkwkms_la_CFLAGS = $(AM_CFLAGS) -fPIC $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) \
	$(CURL_CFLAGS)
kms_client_libkwkms_la_LIBADD = $(CRYPTO_LIBS) $(JANSSON_LIBS) $(CURL_LIBS)

noinst_PROGRAMS += kms/kwkms-tool
kms_kwkms_tool_SOURCES = kms/client/kwkms_tool.c
kms_kwkms_tool_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/kms/client $(CRYPTO_CFLAGS)
kms_kwkms_tool_LDADD = kms/client/libkwkms.la src/libkeyward.la $(CRYPTO_LIBS) \
	$(JANSSON_LIBS) $(CURL_LIBS)
