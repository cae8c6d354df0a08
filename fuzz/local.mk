# fuzz/: libFuzzer targets for every parser of untrusted bytes (build
# fragment included from the top Makefile.am). See fuzz/README.md.
#
# --enable-fuzzing (with CC=clang): each fuzz/fuzz_<target> is a libFuzzer
# binary; configure instruments everything it links (coverage, ASan, UBSan).
# Otherwise each target is linked with fuzz/replay_main.c and
# `make check` runs it over its seed corpus fuzz/corpus/<target>/
# (fuzz/replay.sh). fuzz/fuzz_ble_frames.c is built by drivers/ble/local.mk.

noinst_LTLIBRARIES += fuzz/libfuzzreplay.la
fuzz_libfuzzreplay_la_SOURCES = fuzz/replay_main.c

FUZZ_PIV_PARSERS = fuzz/fuzz_piv_cert fuzz/fuzz_piv_key_history \
	fuzz/fuzz_piv_metadata fuzz/fuzz_piv_chuid fuzz/fuzz_piv_ccc \
	fuzz/fuzz_piv_discovery fuzz/fuzz_piv_admin fuzz/fuzz_piv_mgmt_key
FUZZ_PROGS = fuzz/fuzz_tlv fuzz/fuzz_buf fuzz/fuzz_apdu fuzz/fuzz_piv_client \
	fuzz/fuzz_vcard fuzz/fuzz_p11 fuzz/fuzz_at fuzz/fuzz_kms \
	fuzz/fuzz_config fuzz/fuzz_log fuzz/fuzz_p11_input fuzz/fuzz_vcard_io \
	fuzz/fuzz_kms_client fuzz/fuzz_cli fuzz/fuzz_modem $(FUZZ_PIV_PARSERS)
check_PROGRAMS += $(FUZZ_PROGS)

# configure --enable-fuzzing puts -fsanitize=fuzzer-no-link,address,undefined
# into AM_CFLAGS (every library is instrumented); only these binaries get
# libFuzzer's main with -fsanitize=fuzzer.
if FUZZING
FUZZ_LINK_SAN = -fsanitize=fuzzer
FUZZ_MAIN =
else
FUZZ_LINK_SAN =
FUZZ_MAIN = fuzz/libfuzzreplay.la
endif
KWFUZZ_COMPILE = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -I$(top_srcdir)/fuzz
KWFUZZ_LINK = $(AM_LDFLAGS) $(FUZZ_LINK_SAN)
FUZZ_CORE_LIBS = $(FUZZ_MAIN) drivers/libkwdrivers.la src/libkeyward.la \
	$(CRYPTO_LIBS) $(ZLIB_LIBS)
FUZZ_HDRS = fuzz/fuzz_util.h

fuzz_fuzz_tlv_SOURCES = fuzz/fuzz_tlv.c $(FUZZ_HDRS)
fuzz_fuzz_tlv_CFLAGS = $(KWFUZZ_COMPILE)
fuzz_fuzz_tlv_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_tlv_LDADD = $(FUZZ_CORE_LIBS)

fuzz_fuzz_buf_SOURCES = fuzz/fuzz_buf.c $(FUZZ_HDRS)
fuzz_fuzz_buf_CFLAGS = $(KWFUZZ_COMPILE)
fuzz_fuzz_buf_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_buf_LDADD = $(FUZZ_CORE_LIBS)

fuzz_fuzz_apdu_SOURCES = fuzz/fuzz_apdu.c $(FUZZ_HDRS)
fuzz_fuzz_apdu_CFLAGS = $(KWFUZZ_COMPILE)
fuzz_fuzz_apdu_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_apdu_LDADD = $(FUZZ_CORE_LIBS)

fuzz_fuzz_piv_client_SOURCES = fuzz/fuzz_piv_client.c $(FUZZ_HDRS)
fuzz_fuzz_piv_client_CFLAGS = $(KWFUZZ_COMPILE)
fuzz_fuzz_piv_client_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_piv_client_LDADD = $(FUZZ_CORE_LIBS)

fuzz_fuzz_vcard_SOURCES = fuzz/fuzz_vcard.c $(FUZZ_HDRS)
fuzz_fuzz_vcard_CFLAGS = $(KWFUZZ_COMPILE) -I$(top_srcdir)/tools/vcard
fuzz_fuzz_vcard_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_vcard_LDADD = $(FUZZ_MAIN) tools/vcard/libvcard.la drivers/libkwdrivers.la \
	src/libkeyward.la $(CRYPTO_LIBS) $(ZLIB_LIBS)

fuzz_fuzz_at_SOURCES = fuzz/fuzz_at.c $(FUZZ_HDRS)
fuzz_fuzz_at_CFLAGS = $(KWFUZZ_COMPILE)
fuzz_fuzz_at_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_at_LDADD = $(FUZZ_CORE_LIBS)

fuzz_fuzz_config_SOURCES = fuzz/fuzz_config.c $(FUZZ_HDRS)
fuzz_fuzz_config_CFLAGS = $(KWFUZZ_COMPILE)
fuzz_fuzz_config_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_config_LDADD = $(FUZZ_CORE_LIBS)

fuzz_fuzz_log_SOURCES = fuzz/fuzz_log.c $(FUZZ_HDRS)
fuzz_fuzz_log_CFLAGS = $(KWFUZZ_COMPILE)
fuzz_fuzz_log_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_log_LDADD = $(FUZZ_CORE_LIBS)

fuzz_fuzz_kms_SOURCES = fuzz/fuzz_kms.c $(FUZZ_HDRS)
fuzz_fuzz_kms_CFLAGS = $(KWFUZZ_COMPILE) $(KMS_DEP_CFLAGS)
fuzz_fuzz_kms_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_kms_LDADD = $(FUZZ_MAIN) kms/libkmsd.la drivers/libkwdrivers.la src/libkeyward.la \
	$(KMS_DEP_LIBS) $(ZLIB_LIBS)

# C_* sequences: the module's entry points as its unit tests link them.
fuzz_fuzz_p11_SOURCES = fuzz/fuzz_p11.c $(FUZZ_HDRS) $(KWP11_ENTRY_SRC)
fuzz_fuzz_p11_CFLAGS = $(KWFUZZ_COMPILE) $(P11KIT_CFLAGS) $(PCSC_CFLAGS) \
	-I$(top_srcdir)/pkcs11-module -I$(top_srcdir)/tools/vcard
fuzz_fuzz_p11_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_p11_LDADD = $(FUZZ_MAIN) tools/vcard/libvcard.la pkcs11-module/libkwp11.la \
	drivers/libkwdrivers.la src/libkeyward.la $(PCSC_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS) \
	-lpthread

# The module's parsers of other inputs (unpadding, peer points, cache
# files, key templates), called directly.
fuzz_fuzz_p11_input_SOURCES = fuzz/fuzz_p11_input.c $(FUZZ_HDRS)
fuzz_fuzz_p11_input_CFLAGS = $(KWFUZZ_COMPILE) $(P11KIT_CFLAGS) $(PCSC_CFLAGS) \
	-I$(top_srcdir)/pkcs11-module
fuzz_fuzz_p11_input_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_p11_input_LDADD = $(FUZZ_MAIN) pkcs11-module/libkwp11.la drivers/libkwdrivers.la \
	src/libkeyward.la $(PCSC_LIBS) $(SYSTEMD_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS) -lpthread

# keyward-vcard's state file and its UICC and AT modem front ends.
fuzz_fuzz_vcard_io_SOURCES = fuzz/fuzz_vcard_io.c $(FUZZ_HDRS)
fuzz_fuzz_vcard_io_CFLAGS = $(KWFUZZ_COMPILE) -I$(top_srcdir)/tools/vcard
fuzz_fuzz_vcard_io_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_vcard_io_LDADD = $(FUZZ_MAIN) tools/vcard/libvcard.la src/libkeyward.la \
	$(CRYPTO_LIBS) $(ZLIB_LIBS) -lutil

# libkwkms reading KMS answers (kwkms_test_set_exchange) and key deliveries.
fuzz_fuzz_kms_client_SOURCES = fuzz/fuzz_kms_client.c $(FUZZ_HDRS)
fuzz_fuzz_kms_client_CFLAGS = $(KWFUZZ_COMPILE) $(JANSSON_CFLAGS) $(CURL_CFLAGS) \
	-I$(top_srcdir)/kms/client
fuzz_fuzz_kms_client_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_kms_client_LDADD = $(FUZZ_MAIN) kms/client/libkwkms.la src/libkeyward.la \
	$(CRYPTO_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(ZLIB_LIBS)

# The CLI's journal, batch and secret files (the sources they need).
fuzz_fuzz_cli_SOURCES = fuzz/fuzz_cli.c $(FUZZ_HDRS) tools/keyward/cli_journal.c \
	tools/keyward/cli_input.c tools/keyward/cli_csr.c tools/keyward/cli_batch.c \
	tools/keyward/cli_out.c tools/keyward/cli_admin.c
fuzz_fuzz_cli_CFLAGS = $(KWFUZZ_COMPILE) $(JANSSON_CFLAGS) -I$(top_srcdir)/tools/keyward \
	-I$(top_srcdir)/kms/client
fuzz_fuzz_cli_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_cli_LDADD = $(FUZZ_MAIN) drivers/libkwdrivers.la src/libkeyward.la \
	$(PCSC_LIBS) $(SYSTEMD_LIBS) $(CRYPTO_LIBS) $(JANSSON_LIBS) $(ZLIB_LIBS) -lpthread

# The UICC and AT modem transports (own transport registry in the target).
fuzz_fuzz_modem_SOURCES = fuzz/fuzz_modem.c $(FUZZ_HDRS)
fuzz_fuzz_modem_CFLAGS = $(KWFUZZ_COMPILE)
fuzz_fuzz_modem_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_modem_LDADD = $(FUZZ_MAIN) drivers/libkwdrivers.la src/libkeyward.la \
	$(PCSC_LIBS) $(SYSTEMD_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS) -lutil -lpthread

# One binary per PIV object parser, from one source (FUZZ_PIV_PARSER).
FUZZ_PIV_SRC = fuzz/fuzz_piv_object.c $(FUZZ_HDRS)
fuzz_fuzz_piv_cert_SOURCES = $(FUZZ_PIV_SRC)
fuzz_fuzz_piv_cert_CFLAGS = $(KWFUZZ_COMPILE) -DFUZZ_PIV_PARSER=0
fuzz_fuzz_piv_cert_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_piv_cert_LDADD = $(FUZZ_CORE_LIBS)
fuzz_fuzz_piv_key_history_SOURCES = $(FUZZ_PIV_SRC)
fuzz_fuzz_piv_key_history_CFLAGS = $(KWFUZZ_COMPILE) -DFUZZ_PIV_PARSER=1
fuzz_fuzz_piv_key_history_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_piv_key_history_LDADD = $(FUZZ_CORE_LIBS)
fuzz_fuzz_piv_metadata_SOURCES = $(FUZZ_PIV_SRC)
fuzz_fuzz_piv_metadata_CFLAGS = $(KWFUZZ_COMPILE) -DFUZZ_PIV_PARSER=2
fuzz_fuzz_piv_metadata_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_piv_metadata_LDADD = $(FUZZ_CORE_LIBS)
fuzz_fuzz_piv_chuid_SOURCES = $(FUZZ_PIV_SRC)
fuzz_fuzz_piv_chuid_CFLAGS = $(KWFUZZ_COMPILE) -DFUZZ_PIV_PARSER=3
fuzz_fuzz_piv_chuid_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_piv_chuid_LDADD = $(FUZZ_CORE_LIBS)
fuzz_fuzz_piv_ccc_SOURCES = $(FUZZ_PIV_SRC)
fuzz_fuzz_piv_ccc_CFLAGS = $(KWFUZZ_COMPILE) -DFUZZ_PIV_PARSER=4
fuzz_fuzz_piv_ccc_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_piv_ccc_LDADD = $(FUZZ_CORE_LIBS)
fuzz_fuzz_piv_discovery_SOURCES = $(FUZZ_PIV_SRC)
fuzz_fuzz_piv_discovery_CFLAGS = $(KWFUZZ_COMPILE) -DFUZZ_PIV_PARSER=5
fuzz_fuzz_piv_discovery_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_piv_discovery_LDADD = $(FUZZ_CORE_LIBS)
fuzz_fuzz_piv_admin_SOURCES = $(FUZZ_PIV_SRC)
fuzz_fuzz_piv_admin_CFLAGS = $(KWFUZZ_COMPILE) -DFUZZ_PIV_PARSER=6
fuzz_fuzz_piv_admin_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_piv_admin_LDADD = $(FUZZ_CORE_LIBS)
fuzz_fuzz_piv_mgmt_key_SOURCES = $(FUZZ_PIV_SRC)
fuzz_fuzz_piv_mgmt_key_CFLAGS = $(KWFUZZ_COMPILE) -DFUZZ_PIV_PARSER=7
fuzz_fuzz_piv_mgmt_key_LDFLAGS = $(KWFUZZ_LINK)
fuzz_fuzz_piv_mgmt_key_LDADD = $(FUZZ_CORE_LIBS)

# make check: every target over its committed seed corpus.
TESTS += fuzz/replay.sh
EXTRA_DIST += fuzz/replay.sh fuzz/fuzz.sh fuzz/README.md fuzz/corpus fuzz/gen_corpus.py
