"""Run the benchmarks in bench/ and rewrite docs/PERFORMANCE.md with one table: every performance bar of QUALITY.md."""
import argparse
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
DOC = ROOT / "docs" / "PERFORMANCE.md"

# Every performance bar of QUALITY.md, in its order: (name, bar, benchmark script or None, its time limit in s).
BARS = (
    ("queries per page",
     "playlist, workspace and recipient pages run the same number of SQL queries for 10 and for 500 tracks (no N+1)",
     "queries_per_page", 600),
    ("recipient page",
     "requests/s of the recipient playlist page ≥ 30 % of a minimal Flask endpoint on the same gunicorn settings",
     "recipient_page", 600),
    ("audio",
     "in the production setup (nginx in front), authorised range requests reach ≥ 90 % of nginx serving the "
     "same file directly",
     "range_throughput", 1200),
    ("upload memory",
     "a 1 GB upload raises server memory by < 64 MB (streamed to storage, never held in memory)",
     "upload_memory", 1800),
    ("share fan-out",
     "sharing to 10 recipients answers in < 100 ms p95 (messages are queued, not sent inline)",
     "share_fanout", 600),
    ("phone page weight",
     "the code-entry page and the recipient playlist page each transfer < 60 KB before audio",
     "page_weight", 600),
)
NOT_BUILT = "no benchmark yet: the recipient pages and SMS sharing it measures are not built"


def run(name, limit):
    """Run one benchmark script; returns an error text, or None when it wrote its result."""
    result = RESULTS / f"{name}.json"
    result.unlink(missing_ok=True)  # a failed run must not leave an older figure looking current
    print(f"\n=== {name} ===", flush=True)
    try:
        completed = subprocess.run([sys.executable, str(BENCH / f"{name}.py")], cwd=ROOT, timeout=limit)
    except subprocess.TimeoutExpired:
        return f"stopped after {limit} s"
    if completed.returncode != 0:
        return f"exited with code {completed.returncode}"
    if not result.exists():
        return "wrote no result"
    return None


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(failures):
    """The Markdown table of every bar, from the result files in bench/results/."""
    lines = ["| benchmark | bar (QUALITY.md) | rerun | measured | met? | date | machine |",
             "|---|---|---|---|---|---|---|"]
    for label, bar, name, _ in BARS:
        if name is None:
            lines.append(f"| {label} | {cell(bar)} | — | not measured | no — {NOT_BUILT} | — | — |")
            continue
        command = f"`.venv/bin/python bench/{name}.py`"
        path = RESULTS / f"{name}.json"
        if name in failures or not path.exists():
            why = failures.get(name, "not run on this checkout yet (`make bench`)")
            lines.append(f"| {label} | {cell(bar)} | {command} | — | no — benchmark {cell(why)} | — | — |")
            continue
        result = json.loads(path.read_text())
        met = "**yes**" if result["met"] else "**no**"
        note = result.get("note") or ("" if result["met"] else "below the bar")
        met += f" — {note}" if note else ""
        lines.append(f"| {label} | {cell(bar)} | {command} | {cell(result['figure'])} | {cell(met)} "
                     f"| {result['date']} | {cell(result['machine']['label'])} |")
    return "\n".join(lines)


def write_doc(text):
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(
        "# Performance\n\n"
        "Every performance bar of `QUALITY.md`, with the figure measured by the benchmark in `bench/`. "
        "`make bench` runs them all and rewrites this file; each figure is a ratio or a difference "
        "measured within one run on one machine, because absolute times drift between machines. "
        "The raw figures of the last run are in `bench/results/*.json` (not committed).\n\n"
        + text + "\n"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    names = [name for _, _, name, _ in BARS if name]
    parser.add_argument("only", nargs="*", metavar="benchmark",
                        help=f"run only these ({', '.join(names)}); the table keeps the others' last results")
    parser.add_argument("--table-only", action="store_true", help="rewrite the table from the last results, run nothing")
    args = parser.parse_args()
    unknown = set(args.only) - set(names)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(names)}")

    failures = {}
    if not args.table_only:
        for _, _, name, limit in BARS:
            if name and (not args.only or name in args.only):
                error = run(name, limit)
                if error:
                    failures[name] = error
    text = table(failures)
    write_doc(text)
    print(f"\n{DOC.relative_to(ROOT)}:\n\n{text}\n")
    if failures:
        print("Failed: " + "; ".join(f"{name} {why}" for name, why in failures.items()), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
