# systemd: keyward-kmsd's units and its system user (sysusers.d), installed
# with the KMS (configure --with-systemdsystemunitdir, --with-sysusersdir).
systemdunitdir = $(systemdsystemunitdir)
systemdunit_DATA = systemd/keyward-kmsd.service systemd/keyward-kmsd@.service
sysusersconfdir = $(sysusersdir)
sysusersconf_DATA = systemd/keyward-kms.conf
CLEANFILES += $(systemdunit_DATA) systemd/keyward-kms.conf
EXTRA_DIST += systemd/keyward-kmsd.service.in systemd/keyward-kmsd@.service.in \
	systemd/keyward-kms.sysusers

systemd/keyward-kmsd.service: $(top_srcdir)/systemd/keyward-kmsd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	$(SED) -e 's|@bindir[@]|$(bindir)|g' $(top_srcdir)/systemd/keyward-kmsd.service.in > $@
systemd/keyward-kmsd@.service: $(top_srcdir)/systemd/keyward-kmsd@.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	$(SED) -e 's|@bindir[@]|$(bindir)|g' $(top_srcdir)/systemd/keyward-kmsd@.service.in > $@
systemd/keyward-kms.conf: $(top_srcdir)/systemd/keyward-kms.sysusers
	$(AM_V_GEN)$(MKDIR_P) systemd && cp $(top_srcdir)/systemd/keyward-kms.sysusers $@
