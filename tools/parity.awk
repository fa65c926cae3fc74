# SPDX-License-Identifier: MIT
# The integration results side by side per backend: reads the TAP-style
# lines of tests/integration/run.sh ("ok - svm guest cpuid: 8 checks pass",
# "not ok - vmx linux: ...") and prints one row per check that either
# backend ran, so a gap in parity shows at a glance.  Numbers in a name
# (counts, timings: a number after a space) are written N so both backends'
# lines meet in one row.
function key(s) {
	sub(/ # SKIP.*/, "", s)
	gsub(/ \([^)]*\)/, "", s)
	gsub(/ [0-9][0-9.]*/, " N", s)
	return s
}
/^(not )?ok - (svm|vmx) / {
	ok = $1 == "ok"
	line = $0
	sub(/^(not )?ok - /, "", line)
	vendor = substr(line, 1, 3)
	name = substr(line, 5)
	if (!ok) sub(/: .*/, "", name) # the failure's detail follows ": "
	else if (name ~ /^guest [a-z-]+: /) sub(/: .*/, "", name)
	k = key(name)
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	res[vendor, k] = (line ~ / # SKIP/) ? "skip" : (ok ? "ok" : "FAIL")
	count[vendor, ok]++
}
END {
	if (!n) exit
	printf "== by backend: SVM (QEMU TCG) | VMX (Bochs)\n"
	for (i = 1; i <= n; i++) {
		k = order[i]
		a = ((("svm", k) in res) ? res["svm", k] : "-")
		b = ((("vmx", k) in res) ? res["vmx", k] : "-")
		printf "  %-4s | %-4s  %s\n", a, b, k
	}
	printf "svm: %d passed, %d failed; vmx: %d passed, %d failed\n",
		count["svm", 1], count["svm", 0], count["vmx", 1], count["vmx", 0]
}
