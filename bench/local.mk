# bench: keyward-pkcs11 against OpenSC's PIV module and ykcs11 on the same
# virtual token (not a test: `make bench` runs bench/bench-p11.sh).
noinst_PROGRAMS += bench/p11bench
bench_p11bench_SOURCES = bench/p11bench.c \
	tests/interop/p11_util.c tests/interop/p11_util.h
bench_p11bench_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS) $(CRYPTO_CFLAGS)
bench_p11bench_LDADD = $(CRYPTO_LIBS) -ldl
EXTRA_DIST += bench/bench-p11.sh

bench: all
	KW_TOP_SRCDIR='$(abs_top_srcdir)' KW_TOP_BUILDDIR='$(abs_top_builddir)' \
		$(SHELL) $(abs_top_srcdir)/bench/bench-p11.sh
.PHONY: bench
