# docs: reference documents and the man pages. Each page has one source,
# docs/man/NAME.SECTION.scd, turned into roff by scdoc at build time (a
# tarball carries the generated pages, so it builds without scdoc).
EXTRA_DIST += docs/kms-api.md docs/kms-config.md docs/ble-profile.md

KW_MAN_BASE = docs/man/keyward.1 docs/man/keyward-vcard.1 docs/man/keyward-testenv.1 \
	docs/man/keyward-pkcs11.8
KW_MAN_KMS = docs/man/keyward-kmsd.8 docs/man/keyward-kmsd.conf.5
dist_man_MANS = $(KW_MAN_BASE)
if KW_KMS
dist_man_MANS += $(KW_MAN_KMS)
endif
KW_MAN_ALL = $(KW_MAN_BASE) $(KW_MAN_KMS)
EXTRA_DIST += $(KW_MAN_ALL:=.scd)
MAINTAINERCLEANFILES += $(KW_MAN_ALL)

if HAVE_SCDOC
KW_SCDOC = $(SCDOC)
else
KW_SCDOC = { echo "scdoc is needed to build the man pages (apt-get install scdoc)" >&2; exit 1; };
endif
KW_SCDOC_RUN = $(AM_V_GEN)$(MKDIR_P) docs/man && $(KW_SCDOC)

docs/man/keyward.1: $(top_srcdir)/docs/man/keyward.1.scd
	$(KW_SCDOC_RUN) < $(top_srcdir)/docs/man/keyward.1.scd > $@.tmp && mv $@.tmp $@
docs/man/keyward-vcard.1: $(top_srcdir)/docs/man/keyward-vcard.1.scd
	$(KW_SCDOC_RUN) < $(top_srcdir)/docs/man/keyward-vcard.1.scd > $@.tmp && mv $@.tmp $@
docs/man/keyward-testenv.1: $(top_srcdir)/docs/man/keyward-testenv.1.scd
	$(KW_SCDOC_RUN) < $(top_srcdir)/docs/man/keyward-testenv.1.scd > $@.tmp && mv $@.tmp $@
docs/man/keyward-pkcs11.8: $(top_srcdir)/docs/man/keyward-pkcs11.8.scd
	$(KW_SCDOC_RUN) < $(top_srcdir)/docs/man/keyward-pkcs11.8.scd > $@.tmp && mv $@.tmp $@
docs/man/keyward-kmsd.8: $(top_srcdir)/docs/man/keyward-kmsd.8.scd
	$(KW_SCDOC_RUN) < $(top_srcdir)/docs/man/keyward-kmsd.8.scd > $@.tmp && mv $@.tmp $@
docs/man/keyward-kmsd.conf.5: $(top_srcdir)/docs/man/keyward-kmsd.conf.5.scd
	$(KW_SCDOC_RUN) < $(top_srcdir)/docs/man/keyward-kmsd.conf.5.scd > $@.tmp && mv $@.tmp $@
