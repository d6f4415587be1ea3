#!/usr/bin/env bash
# The compile cost of real #[b24_method] declarations: generates a throwaway crate holding N
# copies of real declarations (benches/decl_cost/gen.py; by default the whole generated `crm`
# scope, methods/src/crm, each copy a module tree of its own with its method names suffixed)
# that depends on the workspace's `b24` by path (with no scope feature), builds its dependencies
# first, then times a clean build of that crate alone, in debug (`cargo build`) and with `cargo
# check`, several times, and reports the median and spread (min-max) of wall time and peak memory
# per size, and the cost per method (the slope of the medians between the two largest sizes,
# divided by the methods added).
#
#   benches/decl_cost.sh                 # 1 and 2 copies of crm (428 and 856 methods), 3 runs each
#   benches/decl_cost.sh 1 3
#   REPEAT=5 JOBS=2 benches/decl_cost.sh
#   DECL_FROM="methods/src/imopenlines" benches/decl_cost.sh 1 4   # another generated scope
#   DECL_FILES=1 DECL_FROM="methods/src/imopenlines/session/start.rs" benches/decl_cost.sh 10 40
#
# Environment:
#   JOBS        cargo -j (default 2)
#   REPEAT      measurements per size and mode; the median and spread are reported (default 3)
#   B24_PATH    the `b24` crate to depend on (default: this workspace's methods/)
#   DECL_FROM   the declarations to copy, space-separated: generated scope directories (default:
#               methods/src/crm), or with DECL_FILES=1 files or directories of single
#               declarations copied file by file with their types renamed (the bench before the
#               whole API was generated: the seven hand-picked methods, see gen.py)
#   DECL_COST_DIR  where the crate and its target dir go (default: <workspace>/target/decl-cost)
#
# Peak memory is the largest resident set of the cargo process tree (rustc, in practice), from
# /usr/bin/time -v when present, else from the kernel's rusage of children read by Python.
# Nothing here is committed: the generated crate lives under target/.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
jobs="${JOBS:-2}"
repeat="${REPEAT:-3}"
b24_path="${B24_PATH:-$root/methods}"
work="${DECL_COST_DIR:-$root/target/decl-cost}"
crate="$work/crate"
target="$work/target"
if [ "$#" -gt 0 ]; then sizes=("$@"); else sizes=(1 2); fi
from=()
if [ -n "${DECL_FROM:-}" ]; then read -r -a from <<<"$DECL_FROM"; from=(--from "${from[@]}"); fi
if [ -z "${DECL_FILES:-}" ]; then
    [ "${#from[@]}" -gt 0 ] || from=(--from methods/src/crm)
    from=(--tree "${from[@]}")
fi

for n in "${sizes[@]}"; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "decl_cost.sh: sizes are numbers, got '$n'" >&2; exit 2; }
done

mkdir -p "$work"
log="$work/last.log"
: >"$log"

gen() {
    python3 "$here/decl_cost/gen.py" --copies "$1" --dir "$crate" --b24 "$b24_path" \
        --lock "$root/Cargo.lock" "${from[@]}"
}

# Runs a command and prints "<wall seconds> <peak RSS KiB> <CPU seconds (user + system)>" for its
# whole process tree. CPU time is the figure to trust on a shared machine: wall time grows with
# the other builds running, CPU time much less.
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
            /User time \(seconds\)/ { cpu += $2 }
            /System time \(seconds\)/ { cpu += $2 }
            END { printf "%.2f %d %.2f\n", wall, rss, cpu }' "$out"
    else
        python3 - "$@" <<'PY' 2>>"$log"
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=sys.stderr, stderr=sys.stderr).returncode
wall = time.perf_counter() - t
if rc:
    sys.exit(rc)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.2f} {ru.ru_maxrss} {ru.ru_utime + ru.ru_stime:.2f}")
PY
    fi
}

cargo_in_crate() {
    cargo "$@" -j "$jobs" --manifest-path "$crate/Cargo.toml" --target-dir "$target"
}

per_copy=$(python3 "$here/decl_cost/gen.py" --copies 1 --dir "$crate" --b24 "$b24_path" --count "${from[@]}")
echo "decl_cost: b24 at $b24_path, $per_copy methods a copy, crate and target under $work, cargo -j$jobs, $repeat runs"
echo "building the dependencies (debug and check) once, untimed..."
gen 0
cargo_in_crate build >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
cargo_in_crate check >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }

# Prints "median min max" of the numbers given.
stats() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%s %s %s\n", m, v[1], v[NR] }'
}

results=()
for n in "${sizes[@]}"; do
    gen "$n"
    lines=$(wc -l <"$crate/src/lib.rs")
    row="$n $lines"
    for mode in build check; do
        walls=()
        rsss=()
        cpus=()
        retries=0
        while [ "${#walls[@]}" -lt "$repeat" ]; do
            cargo clean -p decl-cost --manifest-path "$crate/Cargo.toml" --target-dir "$target" \
                >>"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
            : >"$work/run.log"
            read -r wall rss cpu < <(log="$work/run.log" measure \
                cargo "$mode" -j "$jobs" --manifest-path "$crate/Cargo.toml" --target-dir "$target")
            cat "$work/run.log" >>"$log"
            [ -n "${wall:-}" ] || { echo "decl_cost: $mode of $n copies failed" >&2; exit 1; }
            # Only the generated crate may have been compiled, or the time is not its own: when
            # b24 changed under us (someone editing the workspace), it has been rebuilt by now,
            # so measure again.
            compiled=$(grep -cE '^\s*(Compiling|Checking) ' "$work/run.log" || true)
            if [ "$compiled" != "1" ]; then
                retries=$((retries + 1))
                echo "  ($mode of $n copies also compiled changed dependencies; measuring again)" >&2
                if [ "$retries" -gt 3 ]; then
                    echo "decl_cost: dependencies keep changing; set B24_PATH to a quiet copy" >&2
                    exit 1
                fi
                continue
            fi
            walls+=("$wall")
            cpus+=("$cpu")
            rsss+=("$(awk "BEGIN{print $rss/1024}")")
        done
        read -r wm wlo whi < <(stats "${walls[@]}")
        read -r rm rlo rhi < <(stats "${rsss[@]}")
        read -r cm clo chi < <(stats "${cpus[@]}")
        row="$row $wm $wlo $whi $rm $rlo $rhi $cm $clo $chi"
        printf '  %4d copies (%5d methods), cargo %-5s: wall %6.2f s (%.2f-%.2f), CPU %6.2f s (%.2f-%.2f), peak %5.0f MiB (%.0f-%.0f)\n' \
            "$n" "$((n * per_copy))" "$mode" "$wm" "$wlo" "$whi" "$cm" "$clo" "$chi" "$rm" "$rlo" "$rhi"
    done
    results+=("$row")
done

echo
printf '%s\n' "${results[@]}" | awk -v per="$per_copy" '
    # Fields per row: copies lines, then per mode (build, check): wall med/min/max,
    # RSS med/min/max (MiB), CPU med/min/max.
    {
        n[NR] = $1; lines[NR] = $2
        for (k = 0; k < 18; k++) f[NR, k] = $(k + 3)
    }
    END {
        printf "| copies | methods | lines | mode | wall, median (min-max) | CPU, median (min-max) | peak RSS, median (min-max) |\n"
        printf "|---:|---:|---:|---|---:|---:|---:|\n"
        for (i = 1; i <= NR; i++)
            for (m = 0; m < 2; m++) {
                o = m * 9
                printf "| %d | %d | %d | %s | %.2f s (%.2f-%.2f) | %.2f s (%.2f-%.2f) | %.0f MiB (%.0f-%.0f) |\n",
                    n[i], n[i] * per, lines[i], m ? "check" : "build",
                    f[i,o], f[i,o+1], f[i,o+2], f[i,o+6], f[i,o+7], f[i,o+8], f[i,o+3], f[i,o+4], f[i,o+5]
            }
        if (NR >= 2 && n[NR] != n[NR-1]) {
            a = NR - 1; b = NR; d = (n[b] - n[a]) * per
            printf "\nper method, slope of the medians from %d to %d methods (in brackets: the slope of the extremes, lowest to highest):\n",
                n[a] * per, n[b] * per
            for (m = 0; m < 2; m++) {
                o = m * 9
                printf "  %s: wall %.1f ms (%.1f-%.1f), CPU %.1f ms (%.1f-%.1f), peak RSS %.2f MiB (%.2f-%.2f)\n",
                    m ? "check" : "build",
                    (f[b,o] - f[a,o]) * 1000 / d, (f[b,o+1] - f[a,o+2]) * 1000 / d, (f[b,o+2] - f[a,o+1]) * 1000 / d,
                    (f[b,o+6] - f[a,o+6]) * 1000 / d, (f[b,o+7] - f[a,o+8]) * 1000 / d, (f[b,o+8] - f[a,o+7]) * 1000 / d,
                    (f[b,o+3] - f[a,o+3]) / d, (f[b,o+4] - f[a,o+5]) / d, (f[b,o+5] - f[a,o+4]) / d
            }
        }
    }'
echo "(full cargo output: $log)"
