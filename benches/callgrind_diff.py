#!/usr/bin/env python3
"""Per-call instruction costs by function, b24 minus baseline, from callgrind.sh's output files.

    benches/callgrind_diff.py DIR BASE CALLS [TOP [AGAINST]]

AGAINST is the side b24 is compared with: `baseline` (the default) or `baseline-url`. For each
of the two sides it reads `callgrind_annotate --threshold=100` of the BASE-call and
the (BASE+CALLS)-call runs, subtracts them per function and divides by CALLS: the per-call cost of
every function, setup excluded. It prints, for exclusive (self) and inclusive costs, the TOP
functions whose per-call cost differs most between the two sides.
"""
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([0-9,]+)\s+(?:\([^)]*\)\s+)?(.*?)(?:\s+\[[^\]]*\])?\s*$")


def costs(path, inclusive):
    args = ["callgrind_annotate", "--threshold=100", path]
    if inclusive:
        args.insert(1, "--inclusive=yes")
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    out = {}
    started = False
    for line in text.splitlines():
        if "file:function" in line:
            started = True
            continue
        if not started:
            continue
        m = LINE.match(line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = m.group(2).split(":", 1)[1] if m.group(2).startswith("???:") else m.group(2)
        out[name] = out.get(name, 0) + int(m.group(1).replace(",", ""))
    return out


def per_call(directory, side, base, calls, inclusive):
    small = costs(f"{directory}/{side}.{base}.out", inclusive)
    big = costs(f"{directory}/{side}.{base + calls}.out", inclusive)
    return {k: (big.get(k, 0) - small.get(k, 0)) / calls for k in set(small) | set(big)}


def main():
    directory, base, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    against = sys.argv[5] if len(sys.argv) > 5 else "baseline"
    for inclusive in (False, True):
        a = per_call(directory, against, base, calls, inclusive)
        b = per_call(directory, "b24", base, calls, inclusive)
        rows = [(b.get(k, 0) - a.get(k, 0), b.get(k, 0), a.get(k, 0), k) for k in set(a) | set(b)]
        rows.sort(key=lambda r: -abs(r[0]))
        kind = "inclusive" if inclusive else "exclusive (self)"
        print(f"\n== {kind} instructions per call, b24 minus {against}, top {top}")
        print(f"{'b24-base':>9} {'b24':>9} {against:>12}  function")
        for d, vb, va, k in rows[:top]:
            print(f"{d:>+9.0f} {vb:>9.0f} {va:>12.0f}  {k[:150]}")


if __name__ == "__main__":
    main()
