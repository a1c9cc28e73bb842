# Shared by the campaign scripts (discovery.sh, pareto.sh), which set GS
# (the goalsearch binary) and STORE before sourcing it.

# has_study STUDY: whether the store holds STUDY.
has_study() { "$GS" status "$1" --store "$STORE" >/dev/null 2>&1; }

# import_missing STUDY FILE: imports the gzipped export FILE unless the store
# holds STUDY already, so a fresh clone resumes a study where it was exported.
import_missing() {
	local tmp
	if ! has_study "$1" && [[ -f $2 ]]; then
		tmp=$(mktemp)
		gunzip -c "$2" >"$tmp"
		"$GS" import "$tmp" --store "$STORE"
		rm -f "$tmp"
	fi
}
