#!/bin/sh
# udev/check-rules.sh RULES...: syntax check of udev rules files. Uses
# `udevadm verify` where it exists (systemd >= 253); otherwise (Debian 12's
# systemd 252 has none) this checker: every rule is a comma-separated list of
# KEY[{attr}] OP "value" with a known key, an operator the key allows, closed
# quotes, and GOTO targets that have a LABEL in the same file.
st=0
if command -v udevadm >/dev/null 2>&1 && udevadm verify --help >/dev/null 2>&1; then
	udevadm verify "$@" || st=1
fi
for f in "$@"; do
	awk -v file="$f" '
	function bad(msg) { printf "%s:%d: %s\n", file, lineno, msg; err = 1 }
	BEGIN {
		nm = split("ACTION DEVPATH KERNEL KERNELS NAME SYMLINK SUBSYSTEM SUBSYSTEMS " \
		    "DRIVER DRIVERS ATTR ATTRS SYSCTL ENV CONST TAG TAGS TEST PROGRAM RESULT " \
		    "IMPORT OPTIONS OWNER GROUP MODE SECLABEL RUN LABEL GOTO", k, " ")
		for (i = 1; i <= nm; i++) known[k[i]] = 1
		split("ATTR ATTRS SYSCTL ENV CONST SECLABEL IMPORT", a, " ")
		for (i in a) needattr[a[i]] = 1
		split("ACTION DEVPATH KERNELS SUBSYSTEMS DRIVERS ATTRS TAGS TEST PROGRAM RESULT CONST", m, " ")
		for (i in m) matchonly[m[i]] = 1
		split("LABEL GOTO OPTIONS OWNER GROUP MODE SECLABEL RUN IMPORT", s, " ")
		for (i in s) assignonly[s[i]] = 1
	}
	{
		lineno = NR
		line = $0
		if (line ~ /^[ \t]*(#.*)?$/) next
		nkeys = 0
		while (line != "") {
			sub(/^[ \t]+/, "", line)
			if (!match(line, /^[A-Z_]+(\{[^}"]*\})?[ \t]*(==|!=|\+=|-=|:=|=)[ \t]*"[^"]*"/)) {
				bad("cannot parse: " line); next
			}
			tok = substr(line, 1, RLENGTH)
			line = substr(line, RLENGTH + 1)
			match(tok, /^[A-Z_]+/); key = substr(tok, 1, RLENGTH)
			hasattr = (substr(tok, RLENGTH + 1, 1) == "{")
			match(tok, /(==|!=|\+=|-=|:=|=)/); op = substr(tok, RSTART, RLENGTH)
			match(tok, /"[^"]*"$/); val = substr(tok, RSTART + 1, RLENGTH - 2)
			if (!(key in known)) bad("unknown key " key)
			if ((key in needattr) && !hasattr) bad(key " needs {attribute}")
			ismatch = (op == "==" || op == "!=")
			if (ismatch && (key in assignonly)) bad(key " cannot be matched")
			if (!ismatch && (key in matchonly)) bad(key " cannot be assigned")
			if (key == "LABEL") labels[val] = 1
			if (key == "GOTO") gotos[val] = lineno
			nkeys++
			sub(/^[ \t]+/, "", line)
			if (line == "") break
			if (substr(line, 1, 1) != ",") { bad("expected , before: " line); next }
			line = substr(line, 2)
			if (line ~ /^[ \t]*$/) bad("trailing comma")
		}
	}
	END {
		for (g in gotos) if (!(g in labels)) { lineno = gotos[g]; bad("GOTO " g " has no LABEL") }
		exit err
	}' "$f" || st=1
done
exit $st
