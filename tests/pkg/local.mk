# tests/pkg: packaging, installation and documentation checks.
#
# In `make check`: the man pages against each tool's --help, the hardening
# of the built binaries.
KW_PKG_TESTS = tests/pkg/test_manpages.sh tests/pkg/test_hardening.sh
TESTS += $(KW_PKG_TESTS)
EXTRA_DIST += $(KW_PKG_TESTS)

# `make check-packaging` (its own CI group, scripts/test.sh): builds from
# the tarball and from scratch, so minutes rather than seconds:
#   test_configure_minimal.sh  --disable-kms --disable-ble without the -dev
#                              packages they drop
#   test_distcheck.sh          make distcheck (unit and pkg tests inside)
#   test_deb.sh                dpkg-buildpackage, lintian, install into a
#                              clean root, run the programs there
KW_PACKAGING_TESTS = tests/pkg/test_configure_minimal.sh tests/pkg/test_distcheck.sh \
	tests/pkg/test_deb.sh
EXTRA_DIST += $(KW_PACKAGING_TESTS) \
	debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/keyward.install debian/keyward-pkcs11.install \
	debian/keyward-kmsd.install debian/keyward-kmsd.docs \
	debian/keyward-testenv.install debian/keyward-testenv.links \
	debian/keyward-kmsd.keyward-kms.sysusers

check-packaging: all
	$(MAKE) $(AM_MAKEFLAGS) -j1 check TESTS='$(KW_PACKAGING_TESTS)'

# The quick part of the suite (no processes, no root): unit tests, fuzz
# corpus replays excepted, and the checks above. The Debian build runs it.
kw-list-unit-tests:
	@for x in $(TESTS); do \
		case " $$x $(KW_PKG_TESTS) " in " tests/unit/"*|*" $$x "*" $$x "*) echo "$$x" ;; esac; \
	done
check-unit: all
	@$(MAKE) $(AM_MAKEFLAGS) check TESTS="`$(MAKE) -s kw-list-unit-tests | tr '\n' ' '`"
.PHONY: check-packaging check-unit kw-list-unit-tests
