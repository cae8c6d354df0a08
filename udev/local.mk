# udev: build fragment (included from the top Makefile.am).
# 70-keyward.rules and its helper go to udev's directory (configure
# --with-udevdir; default: pkg-config udev's udevdir, else $(prefix)/lib/udev).
udevrulesdir = $(udevdir)/rules.d
dist_udevrules_DATA = udev/70-keyward.rules
udevhelperdir = $(udevdir)
dist_udevhelper_SCRIPTS = udev/keyward-udev-modem
EXTRA_DIST += udev/check-rules.sh

TESTS += tests/integration/test_sim_udev.sh
EXTRA_DIST += tests/integration/test_sim_udev.sh
