#!/bin/sh
# OpenSSH: `ssh-keygen -D module` lists the token's keys; every provisioned
# slot's public key must be among them (RSA-2048 and ECDSA P-256).
# (ssh-agent cannot answer 9C's PIN-always prompt unattended; listing needs no PIN.)
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"

kwi_run list.log ssh-keygen -D "$MODULE"
awk '{ print $2 }' list.log | sort >listed.txt
[ -s listed.txt ] || kwi_fail "ssh-keygen -D listed no keys"
while read -r slot id alg; do
	want=$(ssh-keygen -i -m PKCS8 -f "$FIX/slot-$slot.pub" | awk '{ print $2 }')
	grep -qxF "$want" listed.txt || { cat list.log >&2; kwi_fail "ssh-keygen -D does not list the slot $slot ($alg) key"; }
done <"$FIX/slots"
kwi_pass "ssh-keygen -D lists the keys of 9A 9C 9D 82 83"

# Signing through OpenSSH's PKCS#11 code: ssh-agent (its ssh-pkcs11-helper
# loads the module), ssh-add -s with the PIN from an askpass program, then an
# SSH signature (ssh-keygen -Y sign) with the 9A key through the agent,
# verified with ssh-keygen -Y verify. (9C is PIN-always: ssh-agent cannot
# answer that prompt unattended.)
# Debian's ssh-agent is setgid _ssh, so the loader drops LD_PRELOAD and its
# helper could not load an ASan module: under preload, run a plain copy.
agent=ssh-agent
if [ -n "$KWI_PRELOAD" ]; then
	cp "$(command -v ssh-agent)" ./ssh-agent-copy
	agent=./ssh-agent-copy
fi
kwi_client "$agent" -s -P "$MODULE,$(readlink -f "$MODULE")" -a "$PWD/agent.sock" >agent.env 2>agent.log ||
	{ cat agent.log >&2; kwi_fail "ssh-agent did not start"; }
. ./agent.env >/dev/null
agent_stop() { [ -n "${SSH_AGENT_PID:-}" ] && kill "$SSH_AGENT_PID" 2>/dev/null; SSH_AGENT_PID=; }
trap agent_stop EXIT
printf '#!/bin/sh\necho %s\n' "$KWI_PIN" >askpass.sh
chmod 700 askpass.sh
SSH_ASKPASS=$PWD/askpass.sh SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	kwi_run add.log ssh-add -s "$MODULE"
kwi_run agent-list.log ssh-add -L
want=$(ssh-keygen -i -m PKCS8 -f "$FIX/slot-9a.pub")
printf '%s\n' "$want" >slot-9a.sshpub
awk '{ print $2 }' agent-list.log | grep -qxF "$(echo "$want" | awk '{ print $2 }')" ||
	{ cat agent-list.log >&2; kwi_fail "ssh-agent does not hold the 9A key after ssh-add -s"; }
printf 'keyward ssh interop %s\n' "$(date +%s%N)" >msg.txt
kwi_run sshsig.log ssh-keygen -Y sign -f slot-9a.sshpub -n keyward-interop msg.txt
printf 'interop@keyward.test %s\n' "$want" >allowed_signers
ssh-keygen -Y verify -f allowed_signers -I interop@keyward.test -n keyward-interop -s msg.txt.sig \
	<msg.txt >verify.log 2>&1 || { cat verify.log >&2; kwi_fail "SSH signature made through the agent does not verify"; }
agent_stop
kwi_pass "ssh-agent + ssh-add -s: SSH signature with the 9A key verified"
