"""The README's Performance table, made from ``bench/results.json`` so the two cannot drift.

    python -m bench.table            # rewrite the table between the markers in README.md
    python -m bench.table --check    # exit 1 when README.md's table differs from results.json

One row per scenario, one column per store size: the median in seconds, its ratio to the floor measured in
the same run, and the peak memory of the slowest-memory run. ``tests/test_bench_table.py`` checks the README.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
README = HERE.parent / "README.md"
START = "<!-- bench:table:start (made by `python -m bench.table` from bench/results.json; do not edit) -->"
END = "<!-- bench:table:end -->"


def _seconds(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.1f} s" if x < 100 else f"{x:.0f} s"


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    timing = row.get("timing") or {}
    if "median" not in timing:
        return "–"
    text = _seconds(timing["median"])
    if row.get("floor"):
        text += f" ({timing['median'] / row['floor']:.1f}×)"
    if timing.get("peak_mb"):
        text += f", {timing['peak_mb']:.0f} MB"
    return text


def table(results: dict[str, Any]) -> str:
    """The Markdown table of one benchmark run."""
    sizes = results["sizes"]
    by: dict[str, dict[int, dict]] = {}
    notes: dict[str, str] = {}
    floors: dict[str, str] = {}
    for row in results["results"]:
        by.setdefault(row["scenario"], {})[row["size"]] = row
        if row.get("note") and "skipped" not in row["note"] and "not implemented" not in row["note"]:
            notes.setdefault(row["scenario"], row["note"])
        floors.setdefault(row["scenario"], row.get("floor_kind", ""))
    m = results.get("machine", {})
    lines = [
        f"Run of {m.get('date', '?')[:10]} on {m.get('nproc', '?')} × {m.get('cpu', '?')}, {m.get('memory', '?')}, "
        f"Python {m.get('python', '?')}, git {m.get('git', '?')}; median of up to {results.get('repeat', '?')} runs, "
        "(ratio to the floor of the same run), peak resident memory of the largest run.",
        "",
        "| scenario | floor | " + " | ".join(f"{s:,} customers" for s in sizes) + " | what |",
        "|---|---|" + "---|" * len(sizes) + "---|",
    ]
    for name, per_size in by.items():
        cells = [_cell(per_size.get(s)) for s in sizes]
        lines.append(f"| `{name}` | {floors[name]} | " + " | ".join(cells) + f" | {notes.get(name, '')} |")
    return "\n".join(lines)


def rewrite(readme: str, results: dict[str, Any]) -> str:
    """``readme`` with the text between the markers replaced by the table of ``results``."""
    try:
        head, rest = readme.split(START, 1)
        _, tail = rest.split(END, 1)
    except ValueError:
        raise SystemExit(f"README.md has no {START!r} … {END!r} markers") from None
    return f"{head}{START}\n{table(results)}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.table", description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="Only compare; exit 1 when README.md is out of date.")
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--readme", type=Path, default=README)
    args = p.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    text = args.readme.read_text(encoding="utf-8")
    wanted = rewrite(text, results)
    if args.check:
        if wanted != text:
            print(f"{args.readme}: the Performance table differs from {args.results}; run `python -m bench.table`",
                  file=sys.stderr)
            return 1
        return 0
    if wanted != text:
        args.readme.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
