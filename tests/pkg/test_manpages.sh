#!/bin/sh
# The man pages render without groff warnings and match the programs: every
# option each tool's --help prints is in its page (keyward: each verb's
# options in that verb's section), every configuration key keyward-kmsd
# accepts is in keyward-kmsd.conf(5), every KEYWARD_* variable the module's
# code reads is in keyward-pkcs11(8).
set -u
top=${KW_TOP_SRCDIR:?}
b=${KW_TOP_BUILDDIR:?}
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

. "$top/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need groff
tmp=$KW_TMP

# The generated page (build tree, or the tarball's copy in the source tree).
page() {
	for d in "$b/docs/man" "$top/docs/man"; do
		[ -f "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

# Rendered text, wide and without hyphenation, so options stay whole.
render() {
	p=$(page "$1") || { fail "$1: not built"; return 1; }
	if ! LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$p" >"$tmp/warn" 2>&1 || [ -s "$tmp/warn" ]; then
		fail "$1: groff warnings: $(head -3 "$tmp/warn")"
	fi
	LC_ALL=C.UTF-8 groff -man -Tutf8 -rLL=200n -rHY=0 -P-cbou "$p" 2>/dev/null |
		sed 's/‐/-/g; s/−/-/g' >"$tmp/$1.txt"
}

# Options a --help text offers: --long ones anywhere, -x ones at the start
# of an option line ("  -x, --long").
help_opts() {
	grep -oE '(^|[^A-Za-z0-9_-])--[a-z][a-z0-9-]*' "$1" | sed 's/^[^-]*--/--/'
	grep -oE '^ +-[A-Za-z0-9](,| )' "$1" | sed 's/^ *//; s/[, ]$//'
}

# check_opts HELPFILE TEXTFILE WHAT
check_opts() {
	n=0
	for o in $(help_opts "$1" | sort -u); do
		n=$((n + 1))
		grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|\$)" "$2" || fail "$3: $o is in --help but not in the page"
	done
	[ "$n" -gt 0 ] || fail "$3: no options found in --help"
}

# keyward(1): global options, then one section per verb.
kw=$b/tools/keyward/keyward
if render keyward.1; then
	"$kw" --help >"$tmp/kw.help"
	check_opts "$tmp/kw.help" "$tmp/keyward.1.txt" "keyward"
	verbs=$(sed -n '/^Verbs:/,/^$/p' "$tmp/kw.help" | awk 'NR > 1 && NF { print $1 }')
	[ -n "$verbs" ] || fail "keyward --help lists no verbs"
	for v in $verbs; do
		# The verb's section: from the subsection heading "   VERB" to the next heading.
		awk -v v="$v" '
			/^   [a-z]+$/ { s = ($1 == v); next }
			/^[A-Z]/ { s = 0 }
			s' "$tmp/keyward.1.txt" >"$tmp/sec.$v"
		[ -s "$tmp/sec.$v" ] || { fail "keyward(1) has no section for verb $v"; continue; }
		"$kw" "$v" --help >"$tmp/help.$v" 2>&1
		check_opts "$tmp/help.$v" "$tmp/sec.$v" "keyward $v"
	done
fi

# One page per program.
check_prog() { # PAGE PROGRAM
	[ -x "$2" ] || { fail "$2: not built"; return; }
	render "$1" || return
	"$2" --help >"$tmp/help" 2>&1
	check_opts "$tmp/help" "$tmp/$1.txt" "$(basename "$2")"
}
check_prog keyward-vcard.1 "$b/tools/vcard/keyward-vcard"
check_prog keyward-testenv.1 "$b/tools/testenv/keyward-testenv"
if [ -x "$b/kms/keyward-kmsd" ]; then
	check_prog keyward-kmsd.8 "$b/kms/keyward-kmsd"
	# Every key of the configuration table in kms/ (S("sec.key", ...) / L(...)).
	render keyward-kmsd.conf.5 && {
		keys=$(grep -rhoE '^[[:space:]]*[SL]\("[a-z_]+\.[a-z_0-9]+"' "$top/kms" |
			sed 's/.*("//; s/"$//' | sort -u)
		[ "$(echo "$keys" | wc -w)" -ge 20 ] || fail "keyward-kmsd.conf(5): the key table in kms/ was not found"
		for k in $keys; do
			grep -qF -- "$k" "$tmp/keyward-kmsd.conf.5.txt" || fail "keyward-kmsd.conf(5): key $k is missing"
		done
	}
fi

# keyward-pkcs11(8): the environment the module's code reads.
if render keyward-pkcs11.8; then
	vars=$(grep -rhoE 'getenv\("KEYWARD_[A-Z0-9_]+"\)' "$top/src" "$top/drivers" "$top/pkcs11-module" |
		sed 's/.*("//; s/")//' | sort -u)
	[ -n "$vars" ] || fail "no getenv(KEYWARD_*) found in the module's sources"
	for v in $vars; do
		grep -qF -- "$v" "$tmp/keyward-pkcs11.8.txt" || fail "keyward-pkcs11(8): $v is missing"
	done
	grep -q 'keyward.module' "$tmp/keyward-pkcs11.8.txt" || fail "keyward-pkcs11(8) does not name keyward.module"
fi

[ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "man pages render and match --help"
