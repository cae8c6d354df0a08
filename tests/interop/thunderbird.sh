#!/bin/sh
# Thunderbird (Debian's thunderbird, its own bundled NSS) reads and sends
# S/MIME mail with the token's keys through keyward-pkcs11, headless, driven
# over Marionette by thunderbird.py (our own small client):
#   - a fresh profile: the module in pkcs11.txt (modutil), the test CA
#     trusted (certutil), gloda indexing off, a Local Folders mbox;
#   - the PIN given through a replaced prompter, token.login(false);
#   - each message opened through the real display path (mailMessageTab),
#     checked for its plaintext body and the S/MIME header status:
#       RSA mail to 9D; EC mail (dhSinglePass-stdDH-sha1kdf and -sha256kdf)
#       to the retired P-256 slot 83; a message signed by the token's 9C key;
#       and, on a second token enrolled by the KMS with ca.enc_key_type =
#       p256 (then rotated and renewed), EC mail to its current 9D and to
#       its retired 82 key (the dual-certificate model with EC keys);
#   - Thunderbird sends a signed and a signed+encrypted message with the 9C
#     key to an SMTP sink on 127.0.0.1: verified with `openssl cms -verify`
#     (and the encrypted one decrypted through the module).
# Thunderbird starts once for all of it. No display server (--headless).
# Sanitizer builds: see "the messages without Thunderbird" below.
set -eu
KWI_TOKENS=2
KWI_TIMEOUT=${KWI_TIMEOUT:-300}
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"
t_begin=$(date +%s)

command -v thunderbird >/dev/null 2>&1 || kwi_fail "thunderbird not installed (scripts/install-deps.sh installs it)"
provider=$(find /usr/lib/*/ossl-modules -name pkcs11.so 2>/dev/null | head -n1)
[ -n "$provider" ] || kwi_fail "pkcs11-provider not installed (scripts/install-deps.sh)"
[ "$KWI_FLAVOUR" = keyward ] || kwi_log "module $KWI_FLAVOUR: EC decryption is expected to fail"

# ---- token 1: enrolled by a KMS with P-256 escrow keys --------------------
# The KMS processes of tests/kms/kms-env.sh (front + 2 share servers +
# SMTP sink, SoftHSMv2) with ca.enc_key_type = p256; `keyward enroll` on the
# fresh second token, a rotation at the KMS, `keyward renew`: 9D holds the
# new P-256 escrow key, 82 the previous one.
t_kms=$(date +%s)
module_under_test=$MODULE
KMS_TEST_LIMIT=$KWI_TIMEOUT
KMS_EXTRA_CONF='[ca]
enc_key_type = p256'
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
W=$PWD/kms-work
. "$KW_TOP_SRCDIR/tests/integration/enroll-lib.sh"
MODULE=$module_under_test
KMS_PIN=246810
printf '%s\n' "$KMS_PIN" >"$W/pin"
printf '13579135\n' >"$W/puk"
S1=$KEYWARD_TESTENV_SERIAL_1
kmsdir() { curl -s --max-time 20 --cacert "$FRONT_CERT" "$FRONT/v1/directory?email=$1" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["cert"], end="")'; }
kw_verb enroll enroll kim@example.test --token "$S1" --pin-file "$W/pin" --puk-file "$W/puk" ||
	{ cat "$W/enroll.err" >&2; kwi_fail "keyward enroll of token 1 against the KMS (P-256) failed"; }
kmsdir kim@example.test >kim-old.pem
openssl x509 -in kim-old.pem -noout -text | grep -q 'id-ecPublicKey' ||
	kwi_fail "the KMS's encryption certificate for kim is not EC (ca.enc_key_type = p256)"
api POST /v1/admin/rotate '{"email":"kim@example.test"}' "$ADMIN" >/dev/null
[ "$(status)" = 200 ] || kwi_fail "KMS rotation: $(status) $(cat "$T/body")"
kw_verb renew renew kim@example.test --token "$S1" --pin-file "$W/pin" ||
	{ cat "$W/renew.err" >&2; kwi_fail "keyward renew of token 1 failed"; }
kmsdir kim@example.test >kim-new.pem
cmp -s kim-old.pem kim-new.pem && kwi_fail "the rotation did not change kim's certificate"
cp "$CA" kms-ca.pem
kwi_pass "token 1 enrolled by the KMS with P-256 keys, rotated and renewed in $(( $(date +%s) - t_kms )) s"

# ---- messages -------------------------------------------------------------
nonce=$(date +%s%N)
kwi_provider_conf "$provider" provider.cnf
mkdir -p mail
: >plan-read.txt
# mkmsg NAME FROM TO SUBJECT BODY KIND [RECIP-CERT KDF]
#   KIND enc: encrypted to RECIP-CERT (ECDH with KDF sha1/sha256 if given)
#   KIND sign: signed by the token's 9C key (pkcs11-provider), detached
mkmsg() {
	name=$1 from=$2 to=$3 subject=$4 body=$5 kind=$6
	printf 'Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n%s\r\n' \
		"$body" >"mail/$name.inner"
	case $kind in
	enc)
		openssl cms -encrypt -aes-128-cbc -recip "$7" ${8:+-keyopt ecdh_kdf_md:$8} \
			-in "mail/$name.inner" -out "mail/$name.cms" >"mail/$name.log" 2>&1 ||
			{ cat "mail/$name.log" >&2; kwi_fail "encrypting $name"; }
		;;
	sign)
		kwi_client_deepbind env OPENSSL_CONF="$PWD/provider.cnf" openssl cms -sign \
			-inkey "pkcs11:serial=$KEYWARD_TESTENV_SERIAL_0;id=%02;type=private" \
			-signer "$FIX/slot-9c.pem" -md sha256 -in "mail/$name.inner" -out "mail/$name.cms" \
			>"mail/$name.log" 2>&1 </dev/null || { cat "mail/$name.log" >&2; kwi_fail "signing $name with the token"; }
		;;
	esac
	{
		printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\n' "$from" "$to" "$subject"
		printf 'Date: %s\r\nMessage-ID: <%s.%s@keyward.test>\r\n' "$(date -R)" "$name" "$nonce"
		cat "mail/$name.cms"
	} >"mail/$name.eml"
	printf '%s\t%s\t%s\n' "$subject" "$body" "$kind" >>plan-read.txt
}
mkmsg rsa9d sender@keyward.test slot-9d@keyward.test "keyward RSA to 9D" \
	"RSA mail body for 9D $nonce" enc "$FIX/slot-9d.pem"
mkmsg ec83sha1 sender@keyward.test slot-83@keyward.test "keyward EC sha1kdf to 83" \
	"EC sha1kdf mail body for retired 83 $nonce" enc "$FIX/slot-83.pem" sha1
mkmsg ec83sha256 sender@keyward.test slot-83@keyward.test "keyward EC sha256kdf to 83" \
	"EC sha256kdf mail body for retired 83 $nonce" enc "$FIX/slot-83.pem" sha256
mkmsg signed9c slot-9c@keyward.test someone@keyward.test "keyward signed by 9C" \
	"signed by the token's 9C key $nonce" sign
mkmsg kimsha1 sender@keyward.test kim@example.test "KMS P-256 sha1kdf to kim's current key" \
	"EC sha1kdf mail to the KMS user's current key $nonce" enc kim-new.pem sha1
mkmsg kimsha256 sender@keyward.test kim@example.test "KMS P-256 sha256kdf to kim's current key" \
	"EC sha256kdf mail to the KMS user's current key $nonce" enc kim-new.pem sha256
mkmsg kimold sender@keyward.test kim@example.test "KMS P-256 to kim's previous key" \
	"EC mail to the KMS user's retired key $nonce" enc kim-old.pem sha256

# ---- the Thunderbird profile ----------------------------------------------
prof=$PWD/profile
mkdir -p "$prof/Mail/Local Folders" sent
kwi_run certutil-N.log certutil -N -d "sql:$prof" --empty-password
kwi_run certutil-A.log certutil -A -d "sql:$prof" -n "keyward test CA" -t "C,C,C" -i "$FIX/ca.pem"
kwi_run certutil-K.log certutil -A -d "sql:$prof" -n "keyward KMS CA" -t "C,C,C" -i kms-ca.pem
kwi_run modutil.log modutil -dbdir "sql:$prof" -add keyward -libfile "$MODULE" -force
grep -q "$MODULE" "$prof/pkcs11.txt" || kwi_fail "modutil did not put the module in pkcs11.txt"
# Recipients' certificates for encrypting (Thunderbird looks them up by address).
kwi_run certutil-r.log certutil -A -d "sql:$prof" -n "recipient 9d" -t ",," -i "$FIX/slot-9d.pem"
for f in mail/*.eml; do
	printf 'From - %s\n' "$(LC_ALL=C date -u '+%a %b %e %H:%M:%S %Y')"
	tr -d '\r' <"$f"
	printf '\n'
done >"$prof/Mail/Local Folders/keyward"

# SMTP sink on loopback for what Thunderbird sends.
python3 "$KW_TOP_SRCDIR/tests/kms/smtp_sink.py" --dir "$PWD/sent" --port-file smtp.port \
	--lifetime "$KWI_TIMEOUT" &
PIDS="$PIDS $!"   # killed by kms-env.sh's cleanup
i=0
while [ ! -s smtp.port ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && kwi_fail "SMTP sink did not start"
	sleep 0.1
done
smtp_port=$(cat smtp.port)
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$prof/user.js" <<EOF
user_pref("marionette.port", $mport);
user_pref("remote.prefs.recommended", true);
user_pref("app.update.enabled", false);
user_pref("app.update.auto", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("mail.shell.checkDefaultClient", false);
user_pref("mail.rights.version", 1);
user_pref("mailnews.start_page.enabled", false);
user_pref("mail.provider.suppress_dialog_on_startup", true);
user_pref("mail.spotlight.firstRunDone", true);
user_pref("mail.winsearch.firstRunDone", true);
user_pref("mail.biff.play_sound", false);
user_pref("mailnews.auto_config_url", "");
user_pref("mailnews.database.global.indexer.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("network.dns.disableIPv6", true);
user_pref("mail.accountmanager.accounts", "account1");
user_pref("mail.accountmanager.localfoldersserver", "server1");
user_pref("mail.accountmanager.defaultaccount", "account1");
user_pref("mail.account.account1.server", "server1");
user_pref("mail.account.account1.identities", "id1");
user_pref("mail.server.server1.type", "none");
user_pref("mail.server.server1.hostname", "Local Folders");
user_pref("mail.server.server1.userName", "nobody");
user_pref("mail.server.server1.name", "Local Folders");
user_pref("mail.server.server1.directory-rel", "[ProfD]Mail/Local Folders");
user_pref("mail.identity.id1.useremail", "slot-9c@keyward.test");
user_pref("mail.identity.id1.fullName", "keyward test");
user_pref("mail.identity.id1.valid", true);
user_pref("mail.identity.id1.fcc", false);
user_pref("mail.identity.id1.smtpServer", "smtp1");
user_pref("mail.smtpservers", "smtp1");
user_pref("mail.smtp.defaultserver", "smtp1");
user_pref("mail.smtpserver.smtp1.hostname", "127.0.0.1");
user_pref("mail.smtpserver.smtp1.port", $smtp_port);
user_pref("mail.smtpserver.smtp1.authMethod", 1);
user_pref("mail.smtpserver.smtp1.try_ssl", 0);
user_pref("mailnews.sendInBackground", false);
EOF

# ---- the plan for thunderbird.py ------------------------------------------
tok0="keyward PIV #$KEYWARD_TESTENV_SERIAL_0"
tok1="keyward PIV #$S1"
python3 - "$tok0" "$tok1" "$mport" "$nonce" "$KWI_PIN" "$KMS_PIN" >plan.json <<'EOF'
import json, sys
tok0, tok1, port, nonce, pin0, pin1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:]
read = []
for line in open("plan-read.txt"):
    subject, body, kind = line.rstrip("\n").split("\t")
    read.append({"subject": subject, "body": body,
                 "encrypted": "ok" if kind == "enc" else None,
                 "signed": "ok" if kind == "sign" else None})
send = [
    {"to": "someone@keyward.test", "subject": "from Thunderbird, signed " + nonce,
     "body": "signed by Thunderbird with the token " + nonce, "sign": True, "encrypt": False},
    {"to": "slot-9d@keyward.test", "subject": "from Thunderbird, signed and encrypted " + nonce,
     "body": "signed and encrypted by Thunderbird " + nonce, "sign": True, "encrypt": True},
]
print(json.dumps({"pins": {tok0: pin0, tok1: pin1}, "port": port, "folder": "keyward",
                  "read": read, "send": send,
                  "identity": {"key": "id1", "token": tok0, "sign_email": "slot-9c@keyward.test",
                               "enc_email": "slot-9d@keyward.test"}}, indent=1))
EOF

# ---- sanitizer builds: the messages without Thunderbird ------------------
# Thunderbird itself segfaults at start-up with the ASan runtime preloaded
# (even `thunderbird --version`: its allocator and ASan's clash), so it cannot
# load an instrumented module. There every encrypted message of the plan is
# decrypted through the instrumented module by libp11's engine, one token
# per command (NSS's cmsutil would offer one token's PIN to the other and
# block it); the Thunderbird run is the default build's. The provider's KDF
# path under ASan: openssl-cms.sh.
if [ -n "$KWI_PRELOAD" ]; then
	engine=$(find /usr/lib/*/engines-3 -name pkcs11.so 2>/dev/null | head -n1)
	[ -n "$engine" ] || kwi_fail "libp11's engine not installed"
	printf 'openssl_conf = oi\n[oi]\nengines = es\n[es]\npkcs11 = ps\n[ps]\nengine_id = pkcs11\ndynamic_path = %s\nMODULE_PATH = %s\ninit = 0\n' \
		"$engine" "$MODULE" >engine.cnf
	n=0
	while IFS="$(printf '\t')" read -r subject body kind; do
		[ "$kind" = enc ] || continue
		n=$((n + 1))
		name=$(grep -l "^Subject: $subject" mail/*.eml | head -n1)
		name=${name%.eml}
		case $name in
		mail/kimold) ser=$S1 pin=$KMS_PIN id=05 cert=kim-old.pem ;;
		mail/kim*) ser=$S1 pin=$KMS_PIN id=03 cert=kim-new.pem ;;
		mail/rsa9d) ser=$KEYWARD_TESTENV_SERIAL_0 pin=$KWI_PIN id=03 cert=$FIX/slot-9d.pem ;;
		*) ser=$KEYWARD_TESTENV_SERIAL_0 pin=$KWI_PIN id=06 cert=$FIX/slot-83.pem ;;
		esac
		kwi_run "$name-eng.log" env OPENSSL_CONF="$PWD/engine.cnf" openssl cms -decrypt \
			-engine pkcs11 -keyform engine -inkey "pkcs11:serial=$ser;id=%$id;type=private;pin-value=$pin" \
			-recip "$cert" -in "$name.cms" -out "$name.out.txt"
		grep -q "$body" "$name.out.txt" || kwi_fail "$subject: decrypted to something else"
		kwi_pass "sanitizer build: \"$subject\" decrypted through the module"
	done <plan-read.txt
	[ $n -eq 6 ] || kwi_fail "expected 6 encrypted messages, decrypted $n"
	kwi_pass "sanitizer build: all $n messages decrypted in $(( $(date +%s) - t_begin )) s (Thunderbird itself cannot run with the ASan runtime)"
	exit 0
fi

# ---- Thunderbird -----------------------------------------------------------
t_tb=$(date +%s)
rc=0
kwi_client timeout -k 5 200 python3 "$KWI_SRC/thunderbird.py" --profile "$prof" --plan plan.json \
	--report report.json --log thunderbird.log --timeout 180 || rc=$?
t_tb_end=$(date +%s)
[ $rc -eq 0 ] || { tail -n 30 thunderbird.log | sed 's/^/    tb| /' >&2; kwi_fail "Thunderbird run failed (report $PWD/report.json)"; }
kwi_pass "Thunderbird read every message (plaintext body, S/MIME status ok) in $((t_tb_end - t_tb)) s"

# ---- what Thunderbird sent -------------------------------------------------
n=$(ls sent/*.eml 2>/dev/null | wc -l)
[ "$n" -eq 2 ] || kwi_fail "the SMTP sink got $n messages, not 2"
for f in sent/*.eml; do
	sed '1d' "$f" >"${f%.eml}.msg"   # the sink's X-Rcpt-To line
	if grep -qi 'smime-type=enveloped-data' "${f%.eml}.msg"; then
		kwi_run "${f%.eml}-dec.log" kwi_client_deepbind env OPENSSL_CONF="$PWD/provider.cnf" openssl cms -decrypt \
			-inkey "pkcs11:serial=$KEYWARD_TESTENV_SERIAL_0;id=%03;type=private" -recip "$FIX/slot-9d.pem" \
			-in "${f%.eml}.msg" -out "${f%.eml}.inner"
		want="signed and encrypted by Thunderbird $nonce"
	else
		cp "${f%.eml}.msg" "${f%.eml}.inner"
		want="signed by Thunderbird with the token $nonce"
	fi
	openssl cms -verify -CAfile "$FIX/ca.pem" -purpose smimesign -in "${f%.eml}.inner" \
		-out "${f%.eml}.txt" -signer "${f%.eml}.signer" >"${f%.eml}-verify.log" 2>&1 ||
		{ cat "${f%.eml}-verify.log" >&2; kwi_fail "$f: Thunderbird's signature does not verify"; }
	cmp -s "${f%.eml}.signer" "$FIX/slot-9c.pem" ||
		[ "$(openssl x509 -in "${f%.eml}.signer" -noout -fingerprint)" = "$(openssl x509 -in "$FIX/slot-9c.pem" -noout -fingerprint)" ] ||
		kwi_fail "$f: not signed with the 9C certificate"
	# the signed entity is MIME (Thunderbird base64-encodes the text part)
	python3 -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_type() == "text/plain":
        sys.stdout.write(p.get_payload(decode=True).decode("utf-8", "replace"))' \
		"${f%.eml}.txt" >"${f%.eml}.body" || kwi_fail "$f: cannot parse the verified content"
	grep -q "$want" "${f%.eml}.body" || kwi_fail "$f: verified content lacks the body"
	kwi_pass "$(basename "$f"): $(echo "$want" | cut -c1-40)... verified with openssl cms -verify (9C)"
done
kwi_pass "thunderbird.sh done in $(( $(date +%s) - t_begin )) s"
