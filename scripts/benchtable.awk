# Turns `go test -bench` output into a Markdown table: one row per benchmark,
# one column per reported unit (ns/op, allocs/op and custom metrics).
/^Benchmark/ {
	name = $1
	sub(/-[0-9]+$/, "", name)
	names[++n] = name
	for (i = 3; i + 1 <= NF; i += 2) {
		unit = $(i + 1)
		if (!(unit in seen)) { seen[unit] = 1; units[++u] = unit }
		val[name, unit] = $i
	}
}
END {
	if (n == 0) { print "no benchmarks ran"; exit 1 }
	line = "| benchmark |"; sep = "|---|"
	for (j = 1; j <= u; j++) { line = line " " units[j] " |"; sep = sep "---:|" }
	print line; print sep
	for (k = 1; k <= n; k++) {
		line = "| " names[k] " |"
		for (j = 1; j <= u; j++) line = line " " val[names[k], units[j]] " |"
		print line
	}
}
