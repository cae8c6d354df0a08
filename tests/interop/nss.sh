#!/bin/sh
# NSS (Thunderbird's stack): modutil -add into a temporary database,
# certutil -L -h all shows every token certificate, cmsutil -S signs with a
# token key (verified by OpenSSL), cmsutil -D decrypts a message encrypted
# (by OpenSSL) to the token's RSA key-management certificates.
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"

db=sql:$PWD/nssdb
mkdir nssdb
printf '%s\n' "$KWI_PIN" >pin.txt
kwi_run init.log certutil -N -d "$db" --empty-password
kwi_run ca.log certutil -A -d "$db" -n "keyward test CA" -t "C,C,C" -i "$FIX/ca.pem"
kwi_run modutil.log modutil -dbdir "$db" -add keyward-under-test -libfile "$MODULE" -force
# modutil -list exits non-zero when a slot is empty (vpcd's second reader):
# judge by its output instead.
kwi_client modutil -dbdir "$db" -list keyward-under-test >modlist.log 2>&1 || true
grep -q '^ *Token Name: *[^ ]' modlist.log || { cat modlist.log >&2; kwi_fail "modutil -list shows no token for the module"; }
kwi_pass "modutil -add; module has a token"

# certutil -L -h all: one line per certificate, "<nickname>   <trust>".
kwi_run list.log certutil -L -d "$db" -h all -f pin.txt </dev/null
sed -n 's/^\(.*[^ ]\) \{1,\}[a-zA-Z]*,[a-zA-Z]*,[a-zA-Z]* *$/\1/p' list.log | grep -v '^keyward test CA$' >nicks.txt || true
: >fps.txt
while IFS= read -r nick; do
	case $nick in *:*) tok=${nick%%:*} ;; *) tok=internal ;; esac
	kwi_client certutil -L -d "$db" -h "$tok" -f pin.txt -n "$nick" -a >cert.pem 2>/dev/null </dev/null || continue
	fp=$(openssl x509 -in cert.pem -noout -fingerprint -sha256 | sed 's/.*=//')
	printf '%s\t%s\n' "$fp" "$nick" >>fps.txt
done <nicks.txt
while read -r slot id alg; do
	fp=$(openssl x509 -in "$FIX/slot-$slot.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
	nick=$(awk -F '\t' -v fp="$fp" '$1 == fp { print $2; exit }' fps.txt)
	[ -n "$nick" ] || { cat list.log >&2; kwi_fail "certutil -L -h all does not show the slot $slot certificate"; }
	eval "nick_$slot=\$nick"
done <"$FIX/slots"
kwi_pass "certutil -L -h all shows the certificates of 9A 9C 9D 82 83"

printf 'Subject: keyward NSS interop\r\n\r\nsigned by NSS through the token %s\r\n' "$(date +%s%N)" >msg.txt

# cmsutil -S with the 9A RSA key and with the PIN-always 9C P-256 key (NSS
# answers CKU_CONTEXT_SPECIFIC itself with the password it was given).
# No `-Y NONE`: NSS 3.87's cmsutil makes ECDSA signatures that neither NSS
# nor OpenSSL verify with it, even with a software key (a client bug); the
# default adds an EncryptionKeyPreference attribute, as Thunderbird does.
# shellcheck disable=SC2154
for s in 9a 9c; do
	eval "nick=\$nick_$s"
	kwi_run "sign-$s.log" cmsutil -S -d "$db" -N "$nick" -H SHA256 -f pin.txt -i msg.txt -o "signed-$s.der"
	openssl cms -verify -inform DER -CAfile "$FIX/ca.pem" -purpose any -in "signed-$s.der" -out "verified-$s.txt" \
		>"verify-$s.log" 2>&1 || { cat "verify-$s.log" >&2; kwi_fail "cmsutil signature with $s does not verify"; }
	cmp -s msg.txt "verified-$s.txt" || kwi_fail "$s: verified content differs"
	kwi_pass "cmsutil -S with the $s key, verified by OpenSSL"
done

# cmsutil -D: messages encrypted to 9D and to the retired RSA slot 82.
for s in 9d 82; do
	openssl cms -encrypt -aes-256-cbc -recip "$FIX/slot-$s.pem" -outform DER -in msg.txt -out "enc-$s.der" \
		>"enc-$s.log" 2>&1 || { cat "enc-$s.log" >&2; kwi_fail "encrypting to $s"; }
	kwi_run "dec-$s.log" cmsutil -D -d "$db" -f pin.txt -i "enc-$s.der" -o "dec-$s.txt"
	cmp -s msg.txt "dec-$s.txt" || kwi_fail "$s: cmsutil -D output differs from the message"
	kwi_pass "cmsutil -D decrypts a message encrypted to $s"
done
