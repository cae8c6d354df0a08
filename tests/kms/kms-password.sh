#!/bin/sh
# Key-protection password: delivery needs it once set; wrong guesses are
# refused and, after password.max_failures (3 here), locked out even for
# the right password; changing it needs the old one.
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
S=$(session carol@example.test)
K="$KWKMS --url $FRONT --ca $FRONT_CERT --session $S"

$K fetch > /dev/null || fail "fetch without password set"
$K password short 2> "$T/err" && fail "weak password accepted"
grep -q weak_password "$T/err" || fail "unclear weak password error"
$K password 'correct horse battery' || fail "set password"
$K fetch > /dev/null 2> "$T/err" && fail "fetch without password"
grep -q password_required "$T/err" || fail "unclear: $(cat "$T/err")"
$K fetch --password 'wrong one' > /dev/null 2> "$T/err" && fail "wrong password accepted"
grep -q wrong_password "$T/err" || fail "unclear: $(cat "$T/err")"
$K fetch --password 'correct horse battery' > "$T/keys" || fail "right password refused"
[ "$(wc -l < "$T/keys")" -eq 1 ] || fail "expected one key"
ok "password required, wrong refused, right accepted"

$K password 'new password here' 2> "$T/err" && fail "change without old password"
$K password 'new password here' --old-password 'correct horse battery' || fail "change"
ok "change needs the old password"

for i in 1 2 3; do
	$K fetch --password "guess $i" > /dev/null 2>&1 && fail "guess accepted"
done
$K fetch --password 'new password here' > /dev/null 2> "$T/err" && fail "not locked"
grep -q password_locked "$T/err" || fail "unclear lock error: $(cat "$T/err")"
grep -c '"event":"password_failed"' "$(kms_audit)" | grep -q '^[4-9]' ||
	fail "password failures not audited"
ok "rate limit locks after 3 wrong guesses"
echo "kms-password: all passed"
