#!/usr/bin/env bash
# The compile cost of the generated API, scope by scope: builds `b24` (the facade crate) with
# no scope, with each scope's feature alone, with the default features and with `full`, each
# time from a clean `b24` (its dependencies stay built), and reports wall time, CPU time (user +
# system) and peak resident set of each build (`/usr/bin/time -v`), and the cost per method of
# each scope: (scope − no scope) / the scope's methods (its event payload types are in its
# cost, not in the count). First, the clean build of `b24` with its
# default features, dependencies included.
#
#   benches/scope_cost.sh                  # check and build, every scope
#   MODES=check benches/scope_cost.sh crm imopenlines
#
# Environment:
#   MODES   `check`, `build` or both (default: "check build")
#   JOBS    cargo -j (default 2)
#   SCOPE_COST_DIR  its directory (default: $CARGO_TARGET_DIR/scope-cost, else
#           target/scope-cost): the target dir `target/`, cleaned for the first measurement, and
#           `last.log`, the output of every build.
# Prints a Markdown table per mode.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
jobs="${JOBS:-2}"
modes="${MODES:-check build}"
work="${SCOPE_COST_DIR:-${CARGO_TARGET_DIR:-$root/target}/scope-cost}"
target="$work/target"
log="$work/last.log"
mkdir -p "$work"
: >"$log"
command -v /usr/bin/time >/dev/null || { echo "scope_cost.sh: needs /usr/bin/time (GNU time)" >&2; exit 2; }

# name methods events, from the generated block of methods/Cargo.toml
mapfile -t scopes < <(sed -n '/BEGIN generated/,/END generated/p' "$root/methods/Cargo.toml" |
    sed -n 's/^\([a-z_0-9]*\) = \[\] # \([0-9]*\) methods, \([0-9]*\) events$/\1 \2 \3/p')
if [ "$#" -gt 0 ]; then
    wanted=" $* "
    filtered=()
    for s in "${scopes[@]}"; do [[ "$wanted" == *" ${s%% *} "* ]] && filtered+=("$s"); done
    scopes=("${filtered[@]}")
fi

# measure MODE FEATURE-ARGS...: prints "wall_s cpu_s peak_mib"
measure() {
    local mode="$1"
    shift
    local out
    out="$(mktemp)"
    CARGO_TARGET_DIR="$target" /usr/bin/time -v cargo "$mode" -j "$jobs" -q -p b24 "$@" \
        >>"$log" 2>"$out" || { cat "$out" >&2; rm -f "$out"; exit 1; }
    cat "$out" >>"$log"
    python3 - "$out" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", t).group(1)
parts = [float(p) for p in wall.split(":")]
secs = 0.0
for p in parts:
    secs = secs * 60 + p
cpu = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1)) + float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
print(f"{secs:.1f} {cpu:.1f} {rss:.0f}")
EOF
    rm -f "$out"
}

clean_b24() { CARGO_TARGET_DIR="$target" cargo clean -q -p b24 >>"$log" 2>&1; }

echo "## clean build of b24, default features, dependencies included (cargo build -j$jobs)"
CARGO_TARGET_DIR="$target" cargo clean -q >>"$log" 2>&1 || true
read -r w c r <<<"$(measure build)"
echo "wall ${w} s, CPU ${c} s, peak ${r} MiB"

for mode in $modes; do
    echo
    echo "## cargo $mode -p b24, from a clean b24 (dependencies built)"
    echo
    echo "| features | methods | events | wall s | CPU s | peak MiB | CPU ms / method | peak KiB / method |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    # warm the dependencies of this mode
    measure "$mode" --no-default-features >/dev/null
    clean_b24
    read -r bw bc br <<<"$(measure "$mode" --no-default-features)"
    echo "| (none) | 0 | 0 | $bw | $bc | $br | | |"
    total_m=0
    total_e=0
    for s in "${scopes[@]}"; do
        read -r _ m e <<<"$s"
        total_m=$((total_m + m))
        total_e=$((total_e + e))
    done
    rows=("${scopes[@]}" "default - -")
    [ "$#" -eq 0 ] && rows+=("full $total_m $total_e")
    for row in "${rows[@]}"; do
        read -r name methods events <<<"$row"
        clean_b24
        case "$name" in
            default) args=() ;;
            full) args=(--no-default-features --features full) ;;
            *) args=(--no-default-features --features "$name") ;;
        esac
        read -r w c r <<<"$(measure "$mode" "${args[@]}")"
        if [ "$methods" = "-" ]; then
            echo "| $name | | | $w | $c | $r | | |"
        else
            # per method: the scope's events (payload types) are counted in its cost, not its size
            per="$(python3 -c "m=$methods; print(f'{($c-$bc)*1000/m:.0f} | {($r-$br)*1024/m:.0f}' if m else ' | ')")"
            echo "| $name | $methods | $events | $w | $c | $r | $per |"
        fi
    done
done
