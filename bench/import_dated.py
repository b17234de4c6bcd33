"""Import benchmarks of issue 16: deals with their full history, and a large file of interactions.

    python -m bench.import_dated [--deals 10000] [--customers 20000] [--interactions 100000]

Makes fresh stores in a temporary folder, generates the files, and times ``crm import`` of each (wall time and
peak RSS, through /usr/bin/time -v when it is there). Targets: 10,000 deals with full history <= 15 s, 100,000
rows <= 90 s, <= 500 MB.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ["lead", "qualified", "proposal", "negotiation"]


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def customers(path: Path, n: int) -> None:
    _write(path, ["account", "account_id", "created"],
           [[f"Customer {i:05d}", f"C{i}", f"2020-01-{1 + i % 28:02d}"] for i in range(n)])


def deals(path: Path, n: int, accounts: int, seed: int = 16) -> None:
    """Every deal with its opening, a date for each stage it went through, and its won/lost day."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        start = dt.datetime(2022, 1, 1, 9) + dt.timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        outcome = rng.choice(["won", "lost", "open"])
        dates, at = [], start
        for _ in STAGES[1:]:
            at += dt.timedelta(days=rng.randint(1, 20))
            dates.append(at.strftime("%Y-%m-%d %H:%M"))
        closed = (at + dt.timedelta(days=rng.randint(1, 30))).strftime("%Y-%m-%d %H:%M") if outcome != "open" else ""
        rows.append([f"C{rng.randrange(accounts)}", f"Deal {i}", outcome if outcome != "open" else "negotiation",
                     start.strftime("%Y-%m-%d %H:%M"), *dates, closed,
                     rng.randint(1000, 90000) if outcome != "lost" else "", "price" if outcome == "lost" else ""])
    _write(path, ["customer", "title", "stage", "created", "qualified date", "proposal date", "negotiation date",
                  "won lost date", "amount", "lost reason"], rows)


def interactions(path: Path, n: int, accounts: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        at = dt.datetime(2023, 1, 1, 9) + dt.timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        rows.append([f"C{rng.randrange(accounts)}", at.strftime("%Y-%m-%d %H:%M"), rng.choice(["call", "email",
                     "meeting"]), rng.randint(1, 90), f"Talked about order {i}"])
    _write(path, ["customer", "date", "type", "duration", "summary"], rows)


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float | None, float | None]:
    """Wall seconds, peak RSS in MB and CPU seconds (user + system; None without /usr/bin/time)."""
    wrap = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    t0 = time.perf_counter()
    r = subprocess.run([*wrap, *args], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr[-3000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", r.stderr)]
    return wall, int(m[1]) / 1024 if m else None, sum(cpu) if cpu else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--deals", type=int, default=10_000)
    p.add_argument("--accounts", type=int, default=2_000, help="customers the deals belong to")
    p.add_argument("--customers", type=int, default=20_000, help="customers the interactions belong to")
    p.add_argument("--interactions", type=int, default=100_000)
    a = p.parse_args()
    exe = Path(sys.executable).parent / "crm"
    crm = [str(exe)] if exe.is_file() else [sys.executable, "-m", "crmcli"]
    with tempfile.TemporaryDirectory(prefix="crm-bench-import-") as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "GIT_"))}
        (root / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
        env.update(HOME=str(root), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(root / ".gitconfig"),
                   GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.invalid", GIT_COMMITTER_NAME="Bench",
                   GIT_COMMITTER_EMAIL="bench@example.invalid", CRM_TZ="Asia/Shanghai", NO_COLOR="1")
        results = []
        for label, accounts, make, count in (("deals with full history", a.accounts, deals, a.deals),
                                             ("interactions", a.customers, interactions, a.interactions)):
            store = root / f"store-{label.split()[0]}"
            subprocess.run([*crm, "init", str(store), "--currency", "USD"], env=env, check=True,
                           capture_output=True)
            customers(root / "customers.csv", accounts)
            wall, rss, cpu = timed([*crm, "import", str(root / "customers.csv"), "--map",
                                    "account_id=external_id"], store, env)
            results.append((f"{accounts:,} customers", wall, rss, cpu))
            data = root / f"{label.split()[0]}.csv"
            make(data, count, accounts)
            kind = "opps" if make is deals else "interactions"
            args = [*crm, "import", str(data), "--kind", kind]
            if make is deals:
                args += ["--map", "qualified date=stage_at.qualified", "--map", "proposal date=stage_at.proposal",
                         "--map", "negotiation date=stage_at.negotiation"]
            wall, rss, cpu = timed(args, store, env)
            results.append((f"{count:,} {label}", wall, rss, cpu))
            shutil.rmtree(store)
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (wall time grows with it; CPU time does not)")
    for what, wall, rss, cpu in results:
        print(f"import {what:<32} {wall:7.1f} s wall" + (f" {cpu:7.1f} s CPU  peak RSS {rss:5.0f} MB" if rss else ""))


if __name__ == "__main__":
    main()
