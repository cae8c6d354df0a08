# udev: build fragment (included from the top Makefile.am).
# 70-keyward.rules and its helper go to udev's directory: pkg-config udev's
# udevdir when there is one, else $(prefix)/lib/udev; `make install
# udevdir=DIR` overrides.
EXTRA_DIST += udev/70-keyward.rules udev/keyward-udev-modem udev/check-rules.sh

install-data-local: keyward-install-udev
uninstall-local: keyward-uninstall-udev

keyward_udevdir = d='$(udevdir)'; \
	test -n "$$d" || d=`pkg-config --variable=udevdir udev 2>/dev/null`; \
	test -n "$$d" || d='$(prefix)/lib/udev'

keyward-install-udev:
	@$(keyward_udevdir); \
	$(MKDIR_P) "$(DESTDIR)$$d/rules.d" && \
	$(INSTALL_DATA) $(srcdir)/udev/70-keyward.rules "$(DESTDIR)$$d/rules.d/70-keyward.rules" && \
	$(INSTALL_SCRIPT) $(srcdir)/udev/keyward-udev-modem "$(DESTDIR)$$d/keyward-udev-modem"

keyward-uninstall-udev:
	@$(keyward_udevdir); \
	rm -f "$(DESTDIR)$$d/rules.d/70-keyward.rules" "$(DESTDIR)$$d/keyward-udev-modem"

.PHONY: keyward-install-udev keyward-uninstall-udev

TESTS += tests/integration/test_sim_udev.sh
EXTRA_DIST += tests/integration/test_sim_udev.sh
