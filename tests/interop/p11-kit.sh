#!/bin/sh
# p11-kit: the module registered through a .module file (in a private module
# directory, the machine's modules hidden) is listed by `p11-kit
# list-modules`, and pkcs11-tool reaches it through p11-kit-proxy.so: lists the
# token and signs with 9A (signature verified by OpenSSL).
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"

proxy=$(find /usr/lib/*/ -maxdepth 1 -name p11-kit-proxy.so 2>/dev/null | head -n1)
[ -n "$proxy" ] || kwi_fail "p11-kit-proxy.so not found"
# A private module registry: inside keyward-testenv's mount namespace, a
# tmpfs over p11-kit's module config directories holds only our .module file
# (the machine's opensc, softhsm2 and p11-kit-trust modules stay hidden).
sysmods=/usr/share/p11-kit/modules
mount -t tmpfs -o size=1m kwi-p11kit "$sysmods" || kwi_fail "cannot mount a tmpfs on $sysmods (not in keyward-testenv's namespace?)"
[ -d /etc/pkcs11/modules ] && { mount -t tmpfs -o size=1m kwi-p11kit /etc/pkcs11/modules || kwi_fail "cannot hide /etc/pkcs11/modules"; }
# keyward's own .module file (as installed, module path pointed at the build).
shipped=$KW_TOP_SRCDIR/pkcs11-module/keyward-pkcs11.module.in
if [ "$KWI_FLAVOUR" = keyward ] && [ -f "$shipped" ]; then
	sed "s|^module:.*|module: $MODULE|" "$shipped" >"$sysmods/keyward-under-test.module"
else
	printf 'module: %s\ncritical: yes\n' "$MODULE" >"$sysmods/keyward-under-test.module"
fi

kwi_run_p11kit list-modules.log p11-kit list-modules
grep -q '^keyward-under-test:' list-modules.log || { cat list-modules.log >&2; kwi_fail "p11-kit list-modules does not show the module"; }
awk '/^keyward-under-test:/ { m = 1; next } /^[^ ]/ { m = 0 } m && /token:/ { t = 1 } END { exit !t }' list-modules.log ||
	{ cat list-modules.log >&2; kwi_fail "p11-kit list-modules shows no token for the module"; }
grep -qE '^(opensc|p11-kit-trust|ykcs11|softhsm)' list-modules.log && kwi_fail "system modules were not hidden"
kwi_pass "p11-kit list-modules shows the module and its token"

kwi_run slots.log pkcs11-tool --module "$proxy" -L
grep -q 'token label' slots.log || kwi_fail "no token through p11-kit-proxy.so"
printf 'p11-kit proxy %s\n' "$(date +%s%N)" >msg.txt
kwi_run sign.log pkcs11-tool --module "$proxy" --login --pin "$KWI_PIN" --sign --id 01 \
	-m SHA256-RSA-PKCS -i msg.txt -o sig.bin
openssl dgst -sha256 -verify "$FIX/slot-9a.pub" -signature sig.bin msg.txt >verify.log 2>&1 ||
	{ cat verify.log >&2; kwi_fail "signature through p11-kit-proxy does not verify"; }
kwi_pass "pkcs11-tool through p11-kit-proxy.so: token listed, 9A signature verified"
