"""How often does `harness regress` flag a regression when nothing changed?

Runs `harness regress SUITE` N+1 times in a row against a fresh SQLite store (the first run has
no baseline) and counts the runs that exited 1, and how far the machine drifted in each.
Run it on a quiet machine: anything else running is exactly the noise it measures.

    python benchmarks/regress_false_positives.py --suite suites/quick.yaml --runs 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="suites/quick.yaml")
    ap.add_argument("--runs", type=int, default=10, help="compared runs (one more is made)")
    ap.add_argument("--threshold", default="1.10")
    ap.add_argument("--out", help="write the per-run results as JSON")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'fp.db'}"
        for i in range(args.runs + 1):
            out = Path(tmp) / f"run{i}.json"
            proc = subprocess.run([sys.executable, "-m", "harness", "regress", args.suite,
                                   "--storage", url, "--threshold", args.threshold,
                                   "--json", str(out)], capture_output=True, text=True)
            doc = json.loads(out.read_text()) if out.exists() else {}
            verdicts = [p["verdict"] for p in doc.get("points", [])]
            rows.append({"run": i, "exit": proc.returncode,
                         "regressions": doc.get("regressions"),
                         "widened": doc.get("threshold_widened_by"), "drift": doc.get("drift"),
                         "improvements": verdicts.count("improvement")})
            r = rows[-1]
            print(f"run {i}: exit {r['exit']}, regressions {r['regressions']}, improvements "
                  f"{r['improvements']}, drift {r['drift']}, threshold widened {r['widened']}",
                  flush=True)
    compared = rows[1:]
    flagged = sum(r["exit"] == 1 for r in compared)
    print(f"{flagged} of {len(compared)} unchanged runs flagged a regression")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
