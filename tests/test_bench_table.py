"""The README's Performance table is the table of bench/results.json, so the two cannot drift."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import table

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_is_made_from_results_json():
    proc = subprocess.run([sys.executable, "-m", "bench.table", "--check"], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


def test_table_cells_carry_median_ratio_and_peak(tmp_path):
    results = {"sizes": [100, 10000], "repeat": 3, "machine": {"date": "2026-12-03T10:00:00", "nproc": 2},
               "results": [
                   {"scenario": "agenda", "size": 100, "floor": 0.2, "floor_kind": "start+sqlite",
                    "timing": {"median": 0.5, "peak_mb": 41.6}, "note": "warm index"},
                   {"scenario": "agenda", "size": 10000, "floor": 0.25, "floor_kind": "start+sqlite",
                    "timing": {"median": 2.0, "peak_mb": 120.0}},
                   {"scenario": "check", "size": 10000, "floor_kind": "parse_all", "timing": {},
                    "note": "skipped above 10,000 customers (use --all)"}]}
    rows = [line for line in table.table(results).splitlines() if line.startswith("| `")]
    assert rows[0] == "| `agenda` | start+sqlite | 500 ms (2.5×), 42 MB | 2.0 s (8.0×), 120 MB | warm index |"
    assert rows[1] == "| `check` | parse_all |  | – |  |"
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{table.START}\nold\n{table.END}\nafter\n", encoding="utf-8")
    res = tmp_path / "results.json"
    res.write_text(json.dumps(results), encoding="utf-8")
    assert table.main(["--results", str(res), "--readme", str(readme), "--check"]) == 1
    assert table.main(["--results", str(res), "--readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text and text.endswith(f"{table.END}\nafter\n") and rows[0] in text
    assert table.main(["--results", str(res), "--readme", str(readme), "--check"]) == 0
