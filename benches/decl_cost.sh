#!/usr/bin/env bash
# The compile cost of #[b24::b24_method] declarations: generates a throwaway crate with N declared
# methods (benches/decl_cost/gen.py) that depends on the workspace's `b24` by path, builds its
# dependencies first, then times a clean build of that crate alone, in debug (`cargo build`) and
# with `cargo check`, and reports wall time and peak memory per size, and the cost per method (the
# slope between the two largest sizes).
#
#   benches/decl_cost.sh                 # sizes 10 100 1000
#   benches/decl_cost.sh 10 100 1000 2000
#   REPEAT=3 JOBS=2 benches/decl_cost.sh # best of 3 per measurement
#
# Environment:
#   JOBS        cargo -j (default 2)
#   REPEAT      measurements per size and mode; the fastest is reported (default 1)
#   B24_PATH    the `b24` crate to depend on (default: this workspace's methods/)
#   DECL_COST_DIR  where the crate and its target dir go (default: <workspace>/target/decl-cost)
#
# Peak memory is the largest resident set of the cargo process tree (rustc, in practice), from
# /usr/bin/time -v when present, else from the kernel's rusage of children read by Python.
# Nothing here is committed: the generated crate lives under target/.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
jobs="${JOBS:-2}"
repeat="${REPEAT:-1}"
b24_path="${B24_PATH:-$root/methods}"
work="${DECL_COST_DIR:-$root/target/decl-cost}"
crate="$work/crate"
target="$work/target"
if [ "$#" -gt 0 ]; then sizes=("$@"); else sizes=(10 100 1000); fi

for n in "${sizes[@]}"; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "decl_cost.sh: sizes are numbers, got '$n'" >&2; exit 2; }
done

mkdir -p "$work"
log="$work/last.log"
: >"$log"

gen() {
    python3 "$here/decl_cost/gen.py" --methods "$1" --dir "$crate" --b24 "$b24_path" \
        --lock "$root/Cargo.lock"
}

# Runs a command and prints "<wall seconds> <peak RSS KiB>" for its whole process tree.
measure() {
    local out="$work/time.out"
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v -o "$out" "$@" >>"$log" 2>&1 || { cat "$log" >&2; return 1; }
        awk -F': ' '
            /Elapsed \(wall clock\) time/ {
                n = split($2, p, ":"); s = 0
                for (i = 1; i <= n; i++) s = s * 60 + p[i]
                wall = s
            }
            /Maximum resident set size/ { rss = $2 }
            END { printf "%.2f %d\n", wall, rss }' "$out"
    else
        python3 - "$@" <<'PY' 2>>"$log"
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=sys.stderr, stderr=sys.stderr).returncode
wall = time.perf_counter() - t
if rc:
    sys.exit(rc)
print(f"{wall:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
    fi
}

cargo_in_crate() {
    cargo "$@" -j "$jobs" --manifest-path "$crate/Cargo.toml" --target-dir "$target"
}

echo "decl_cost: b24 at $b24_path, crate and target under $work, cargo -j$jobs, best of $repeat"
echo "building the dependencies (debug and check) once, untimed..."
gen 0
cargo_in_crate build >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
cargo_in_crate check >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }

results=()
for n in "${sizes[@]}"; do
    gen "$n"
    lines=$(wc -l <"$crate/src/lib.rs")
    row="$n $lines"
    for mode in build check; do
        best_wall=""
        best_rss=""
        done_runs=0
        retries=0
        while [ "$done_runs" -lt "$repeat" ]; do
            cargo clean -p decl-cost --manifest-path "$crate/Cargo.toml" --target-dir "$target" \
                >>"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
            : >"$work/run.log"
            read -r wall rss < <(log="$work/run.log" measure \
                cargo "$mode" -j "$jobs" --manifest-path "$crate/Cargo.toml" --target-dir "$target")
            cat "$work/run.log" >>"$log"
            [ -n "${wall:-}" ] || { echo "decl_cost: $mode of $n methods failed" >&2; exit 1; }
            # Only the generated crate may have been compiled, or the time is not its own: when
            # b24 changed under us (someone editing the workspace), it has been rebuilt by now,
            # so measure again.
            compiled=$(grep -cE '^\s*(Compiling|Checking) ' "$work/run.log" || true)
            if [ "$compiled" != "1" ]; then
                retries=$((retries + 1))
                echo "  ($mode of $n methods also compiled changed dependencies; measuring again)" >&2
                if [ "$retries" -gt 3 ]; then
                    echo "decl_cost: dependencies keep changing; set B24_PATH to a quiet copy" >&2
                    exit 1
                fi
                continue
            fi
            done_runs=$((done_runs + 1))
            if [ -z "$best_wall" ] || awk "BEGIN{exit !($wall < $best_wall)}"; then
                best_wall=$wall
                best_rss=$rss
            fi
        done
        row="$row $best_wall $best_rss"
        printf '  %5d methods, cargo %-5s: %7.2f s, peak %6.0f MiB\n' "$n" "$mode" "$best_wall" \
            "$(awk "BEGIN{print $best_rss/1024}")"
    done
    results+=("$row")
done

echo
printf '%s\n' "${results[@]}" | awk -v sizes="${#sizes[@]}" '
    {
        n[NR] = $1; lines[NR] = $2
        bt[NR] = $3; bm[NR] = $4 / 1024; ct[NR] = $5; cm[NR] = $6 / 1024
    }
    END {
        printf "| methods |  lines | build (debug) | build peak RSS |   check | check peak RSS |\n"
        printf "|--------:|-------:|--------------:|---------------:|--------:|---------------:|\n"
        for (i = 1; i <= NR; i++)
            printf "| %7d | %6d | %11.2f s | %10.0f MiB | %5.2f s | %10.0f MiB |\n",
                n[i], lines[i], bt[i], bm[i], ct[i], cm[i]
        if (NR >= 2 && n[NR] != n[NR-1]) {
            a = NR - 1; b = NR; d = n[b] - n[a]
            printf "\nper method (slope %d -> %d): build %.1f ms, %.0f KiB; check %.1f ms, %.0f KiB\n",
                n[a], n[b],
                (bt[b] - bt[a]) * 1000 / d, (bm[b] - bm[a]) * 1024 / d,
                (ct[b] - ct[a]) * 1000 / d, (cm[b] - cm[a]) * 1024 / d
        }
    }'
echo "(full cargo output: $log)"
