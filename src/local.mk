# src/: libkeyward core (a convenience library linked into every binary).
noinst_LTLIBRARIES += src/libkeyward.la
src_libkeyward_la_SOURCES = \
	src/kw_err.c src/kw_err.h \
	src/kw_buf.c src/kw_buf.h \
	src/kw_tlv.c src/kw_tlv.h \
	src/kw_secret.c src/kw_secret.h \
	src/kw_log.c src/kw_log.h \
	src/kw_transport.c src/kw_transport.h \
	src/kw_mock.c src/kw_mock.h \
	src/kw_apdu.c src/kw_apdu.h \
	src/kw_piv.c src/kw_piv.h src/kw_piv_int.h \
	src/kw_piv_alg.c src/kw_piv_cert.c src/kw_piv_history.c \
	src/kw_piv_pin.c src/kw_piv_mgmt.c src/kw_piv_crypt.c \
	src/kw_piv_keys.c src/kw_piv_yk.c src/kw_piv_obj.c src/kw_piv_admin.c
src_libkeyward_la_CFLAGS = $(AM_CFLAGS) -fPIC $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS)
src_libkeyward_la_LIBADD = $(CRYPTO_LIBS) $(ZLIB_LIBS)
