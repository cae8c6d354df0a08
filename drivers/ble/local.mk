# drivers/ble: the BLE transport (BlueZ over D-Bus with sd-bus), its framing
# codec, unit tests, the frame fuzz target and the benchmark script.
KWBLE_SRC = \
	drivers/ble/kw_ble.h drivers/ble/kw_ble_int.h drivers/ble/kw_ble_priv.h \
	drivers/ble/kw_ble_frame.h drivers/ble/kw_ble_frame.c \
	drivers/ble/kw_ble.c drivers/ble/kw_ble_objs.c drivers/ble/kw_ble_bus.c \
	drivers/ble/kw_ble_xfer.c drivers/ble/kw_ble_session.c
drivers_libkwdrivers_la_SOURCES += $(KWBLE_SRC)
drivers_libkwdrivers_la_CFLAGS += $(SYSTEMD_CFLAGS)
drivers_libkwdrivers_la_LIBADD += $(SYSTEMD_LIBS)

check_PROGRAMS += tests/unit/test_ble_frame
tests_unit_test_ble_frame_SOURCES = tests/unit/test_ble_frame.c \
	drivers/ble/kw_ble_frame.c drivers/ble/kw_ble_frame.h
tests_unit_test_ble_frame_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_ble_frame_LDADD = src/libkeyward.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
TESTS += tests/unit/test_ble_frame

# D-Bus message parsers (object tree, PropertiesChanged) on built messages.
check_PROGRAMS += tests/unit/test_ble_objs
tests_unit_test_ble_objs_SOURCES = tests/unit/test_ble_objs.c drivers/ble/kw_ble_bus.c \
	drivers/ble/kw_ble_objs.c drivers/ble/kw_ble_int.h
tests_unit_test_ble_objs_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SYSTEMD_CFLAGS)
tests_unit_test_ble_objs_LDADD = src/libkeyward.la $(CMOCKA_LIBS) $(SYSTEMD_LIBS) \
	$(CRYPTO_LIBS)
TESTS += tests/unit/test_ble_objs

# Frame reassembly fuzz target. `make check` runs it as a replay driver
# (deterministic generated inputs, or files given as arguments);
# `make fuzz-ble` builds the libFuzzer binary when clang supports
# -fsanitize=fuzzer.
check_PROGRAMS += fuzz/fuzz_ble_frames
fuzz_fuzz_ble_frames_SOURCES = fuzz/fuzz_ble_frames.c \
	drivers/ble/kw_ble_frame.c drivers/ble/kw_ble_frame.h
fuzz_fuzz_ble_frames_CFLAGS = $(AM_CFLAGS) -DKW_FUZZ_REPLAY
fuzz_fuzz_ble_frames_LDADD = src/libkeyward.la $(CRYPTO_LIBS)
TESTS += fuzz/fuzz_ble_frames

KW_FUZZ_CC = clang
fuzz-ble: src/libkeyward.la
	@if echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' | \
	    $(KW_FUZZ_CC) -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null; then \
		$(KW_FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
			-I$(top_srcdir)/src -I$(top_srcdir)/drivers -include $(top_builddir)/config.h \
			$(top_srcdir)/fuzz/fuzz_ble_frames.c $(top_srcdir)/drivers/ble/kw_ble_frame.c \
			$(top_srcdir)/src/kw_buf.c $(top_srcdir)/src/kw_secret.c $(top_srcdir)/src/kw_err.c \
			$(CRYPTO_LIBS) -o fuzz/fuzz_ble_frames-libfuzzer && \
		echo "built fuzz/fuzz_ble_frames-libfuzzer"; \
	else \
		echo "fuzz-ble: $(KW_FUZZ_CC) has no -fsanitize=fuzzer; use fuzz/fuzz_ble_frames (replay)"; \
	fi
CLEANFILES += fuzz/fuzz_ble_frames-libfuzzer

# kw-ble-probe: drives a transport through the PIV client (integration
# tests, bench-ble.sh).
check_PROGRAMS += tests/integration/kw-ble-probe
tests_integration_kw_ble_probe_SOURCES = tests/integration/kw_ble_probe.c
tests_integration_kw_ble_probe_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_integration_kw_ble_probe_LDADD = drivers/libkwdrivers.la src/libkeyward.la \
	$(PCSC_LIBS) $(SYSTEMD_LIBS) $(CRYPTO_LIBS) -lpthread

# kw-ble-listen: a passive PropertiesChanged listener (test_ble_private.sh).
check_PROGRAMS += tests/integration/kw-ble-listen
tests_integration_kw_ble_listen_SOURCES = tests/integration/kw_ble_listen.c
tests_integration_kw_ble_listen_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
tests_integration_kw_ble_listen_LDADD = $(SYSTEMD_LIBS)

# Integration: private D-Bus bus + keyward-vcard-ble + the PKCS#11 module.
TESTS += tests/integration/test_ble_p11.sh tests/integration/test_ble_faults.sh \
	tests/integration/test_ble_interop.sh tests/integration/test_ble_private.sh
EXTRA_DIST += tests/integration/test_ble_p11.sh tests/integration/test_ble_faults.sh \
	tests/integration/test_ble_interop.sh tests/integration/test_ble_private.sh \
	tests/integration/ble_lib.sh

# Benchmark (not a test): frames, bytes, time per signature over BLE at MTU
# 23/185/512 vs PC/SC. `make bench-ble`.
EXTRA_DIST += drivers/ble/bench-ble.sh docs/ble-profile.md
bench-ble: all tests/integration/kw-ble-probe
	KW_TOP_BUILDDIR='$(abs_top_builddir)' $(SHELL) $(abs_top_srcdir)/drivers/ble/bench-ble.sh
