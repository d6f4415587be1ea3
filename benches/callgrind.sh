#!/usr/bin/env bash
# Instructions per call of each side, the client process only, under callgrind; then
# allocations per call (client_alloc, natively); then the inclusive profile of the b24 side.
#
#   benches/callgrind.sh                 # 2000 calls per side (after 200 to subtract setup)
#   CALLS=5000 benches/callgrind.sh      # more calls; also BASE=N (the setup run), TOP=N (diff lines)
#   SIDES="baseline b24 b24-no-operating" benches/callgrind.sh
#   MODE=64 benches/callgrind.sh        # 64 calls in flight (default 1: one after another)
#
# The client (`client_cost --side S --calls N`) runs under valgrind; its fixed-answer server
# (`fixed_server`) is a child process that valgrind does not follow (no --trace-children), so
# none of the server's instructions are counted. Each side runs twice, with BASE and BASE+CALLS
# calls: the difference of the two totals divided by CALLS is the instructions per call, free of
# the setup (runtime, clients, connection, server start). User-space instructions only: the
# kernel's share of a loopback round trip is not counted (it is the same for both sides).
#
# Output goes to $OUT (default $CARGO_TARGET_DIR/callgrind or target/callgrind): callgrind.out
# files per side and run, and `<side>.inclusive.txt` (callgrind_annotate --inclusive=yes). Last,
# callgrind_diff.py prints the TOP functions whose per-call cost differs most, b24 - baseline-url
# (the baseline with its URL parsed once, as b24 does; the plain baseline when it alone ran).
set -euo pipefail

if ! command -v valgrind >/dev/null 2>&1; then
    echo "!!! callgrind.sh: valgrind is not installed: NO instruction counts measured." >&2
    echo "!!! Install it (Debian/Ubuntu: apt-get install valgrind) and run this again." >&2
    exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
bin=$target/release
CALLS=${CALLS:-2000}
BASE=${BASE:-200}
TOP=${TOP:-30}
SIDES=${SIDES:-"baseline b24 baseline-url"}
MODE=${MODE:-1}
out=${OUT:-$target/callgrind}
mkdir -p "$out"

# Always (re)build: a stale binary would measure old code. NO_BUILD=1 skips it.
if [[ -z ${NO_BUILD:-} ]]; then
    (cd "$root" && cargo build --release -p b24-benches --bins)
fi
export B24_FIXED_SERVER=$bin/fixed_server

# Total instructions (Ir) of a callgrind output file.
total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }

declare -A per_call
for side in $SIDES; do
    for n in "$BASE" $((BASE + CALLS)); do
        valgrind --tool=callgrind --callgrind-out-file="$out/$side.$n.out" \
            "$bin/client_cost" --side "$side" --calls "$n" --mode "$MODE" 2>"$out/$side.$n.log" ||
            { echo "callgrind.sh: the $side run failed, see $out/$side.$n.log" >&2; exit 1; }
    done
    small=$(total "$out/$side.$BASE.out")
    big=$(total "$out/$side.$((BASE + CALLS)).out")
    per_call[$side]=$(((big - small) / CALLS))
    printf '%-18s %12d instructions per call   (%d calls: %d, %d calls: %d)\n' \
        "$side" "${per_call[$side]}" "$((BASE + CALLS))" "$big" "$BASE" "$small"
    callgrind_annotate --inclusive=yes "$out/$side.$((BASE + CALLS)).out" \
        >"$out/$side.inclusive.txt" 2>/dev/null
done
for base in baseline baseline-url; do
    if [[ -n ${per_call[$base]:-} && -n ${per_call[b24]:-} ]]; then
        awk -v b="${per_call[b24]}" -v a="${per_call[$base]}" -v n="b24 / $base" \
            'BEGIN { printf "%-18s %12.3f   (%+d instructions per call)\n", n, b / a, b - a }'
    fi
done
echo
"$bin/client_alloc" --mode 1 --calls "$CALLS"
echo
echo "inclusive profiles: $out/<side>.inclusive.txt"
# Where b24's instructions differ from the like-for-like baseline's (the plain one's if only it ran).
against=baseline
[[ -n ${per_call[baseline-url]:-} ]] && against=baseline-url
if [[ -n ${per_call[$against]:-} && -n ${per_call[b24]:-} ]] && command -v python3 >/dev/null; then
    python3 "$root/benches/callgrind_diff.py" "$out" "$BASE" "$CALLS" "$TOP" "$against"
fi
