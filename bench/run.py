"""Time real ``crm`` commands on generated stores of several sizes, against their floors.

    python -m bench.run                          # 100, 10,000 and 100,000 customers (long)
    python -m bench.run --sizes 100,1000 --repeat 3
    python -m bench.run --sizes 10000 --only customer.add

Every scenario is a real subprocess of the installed ``crm`` entry point with a
fixed git identity, repeated ``--repeat`` times; the table shows the median
(min-max) next to a *floor* measured in the same run:

* ``start+commit`` (writes): ``python -c "import click, yaml"`` plus one
  ``git add`` + ``git commit`` of one small file in a small repository. The
  ``git@N`` column is that same ``git add`` + ``git commit`` done plainly in the
  store of size N, the cost the design avoids.
* ``start`` (reads of one record): ``python -c "import click, yaml"``.
* ``start+stat`` (warm list): start-up plus one ``stat`` of every customer.yaml.
* ``start+sqlite`` (store-wide lists, warm): start-up, ``import click`` and opening the SQLite index.
* ``parse`` (cold scans): start-up plus reading and parsing the same YAML once
  with ``yaml.CSafeLoader`` in one process.

Stores are generated once per size into ``bench/data/store-N`` and reused while
the generator version, seed and size match. Scenarios that write (customer add,
log, ...) grow the store during a run; at the end the store is put back to its
generated commit (``git reset --hard`` + ``git clean`` inside bench/data only).
Results go to the terminal and to ``bench/results.json``.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import generate

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results.json"
DEFAULT_SIZES = "100,10000,100000"
CHECK_LIMIT = 10_000  # `crm check` and imports above this size only with --all
IDENTITY = {"GIT_AUTHOR_NAME": "Bench Runner", "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench Runner", "GIT_COMMITTER_EMAIL": "bench@example.com"}
# Optional commands, timed only when crmcli.cli.main.COMMANDS has them when the run starts.
OPTIONAL = ["log", "show", "timeline", "search", "agenda", "pipeline", "report", "import", "export", "site"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- environment --------------------------------------------------------------------------------------
def crm_command() -> list[str]:
    exe = Path(sys.executable).parent / "crm"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "crmcli"]


def bench_env(home: Path) -> dict[str, str]:
    """No user or system git config, a fixed identity, no CRM_* leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "GIT_"))}
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    env.update(IDENTITY, HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
               CRM_TZ="Asia/Shanghai", NO_COLOR="1", LC_ALL=env.get("LC_ALL", "C.UTF-8"))
    return env


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    mem = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB"
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "git": git_version.replace("git version ", ""), "platform": platform.platform(),
            "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds")}


# -- timing -------------------------------------------------------------------------------------------
@dataclass
class Timing:
    times: list[float] = field(default_factory=list)
    error: str | None = None
    exits: set[int] = field(default_factory=set)
    peak_kb: int = 0  # the largest peak RSS of any run

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    def summary(self) -> dict[str, Any]:
        if not self.times:
            return {"error": self.error}
        return {"median": self.median, "min": min(self.times), "max": max(self.times), "runs": len(self.times),
                "times": self.times, "exit_codes": sorted(self.exits), "peak_mb": round(self.peak_kb / 1024, 1),
                **({"error": self.error} if self.error else {})}


Run = tuple[float, "str | None", int]  # (seconds, error line or None, exit code)


PEAK_RSS: list[int] = []  # KB of the last timed() child, read by repeat()
MARK = "@@bench"
# A small launcher forks and execs the command and reports its wall time and peak memory (``wait4``). The
# command's own process is not a fork of this runner: Linux carries a forked process's peak RSS across exec,
# so a child of the (large) runner would report the runner's memory as its own.
LAUNCHER = r"""
import os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - t
sys.stderr.write(f"\n@@bench {elapsed!r} {usage.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(cmd: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> Run:
    """Wall time of one subprocess; the error line is set when the exit code is not in ``ok``.

    The child's peak resident memory is left in ``PEAK_RSS`` so the table can show memory next to time."""
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    mark = lines.pop() if lines and lines[-1].startswith(MARK) else f"{MARK} nan 0"
    while lines and not lines[-1].strip():
        lines.pop()
    _, elapsed_text, kb = mark.split()
    PEAK_RSS[:] = [int(kb)]
    elapsed = float(elapsed_text)
    if proc.returncode not in ok:
        return elapsed, f"exit {proc.returncode}: {lines[-1] if lines else ''}"[:200], proc.returncode
    return elapsed, None, proc.returncode


def repeat(n: int, once: Callable[[int], Run], budget: float | None = None) -> Timing:
    """Up to ``n`` runs; fewer once ``budget`` seconds are spent (a 100,000-customer scan is slow)."""
    result = Timing()
    for i in range(n):
        if budget is not None and result.times and sum(result.times) > budget:
            break
        PEAK_RSS[:] = []
        elapsed, error, code = once(i)
        result.exits.add(code)
        if PEAK_RSS:
            result.peak_kb = max(result.peak_kb, PEAK_RSS[0])
        if error:
            result.error = error
            if not result.times:
                break  # broken from the start: do not spend the repeats
            continue
        result.times.append(elapsed)
    return result


# -- stores -------------------------------------------------------------------------------------------
def git_out(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env).stdout.strip()


def _assert_bench_store(path: Path) -> None:
    """Refuse to reset anything but a store repository of our own below bench/data (or a temp dir)."""
    path = path.resolve()
    top = Path(git_out(path, "rev-parse", "--show-toplevel")).resolve()
    allowed = (DATA.resolve(), Path(tempfile.gettempdir()).resolve())
    if top != path or not any(a in path.parents for a in allowed):
        raise SystemExit(f"refusing to reset {path}: not a benchmark store repository (top {top})")


def restore(path: Path, head: str, env: dict[str, str]) -> None:
    """Put a cached store back to its generated commit."""
    _assert_bench_store(path)
    subprocess.run(["git", "reset", "-q", "--hard", head], cwd=path, env=env, check=True)
    subprocess.run(["git", "clean", "-fdq"], cwd=path, env=env, check=True)
    shutil.rmtree(path / ".git" / "crm" / "txn", ignore_errors=True)


def cached_store(size: int, per: int, seed: int, env: dict[str, str], jobs: int) -> tuple[Path, dict]:
    """The store for ``size``, generated now unless a matching one is cached."""
    path = DATA / f"store-{size}"
    meta_path = DATA / f"store-{size}.json"
    wanted = {"generator_version": generate.GENERATOR_VERSION, "customers": size, "interactions_per": per,
              "seed": seed}
    meta: dict = {}
    with contextlib.suppress(OSError, ValueError):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta and all(meta.get(k) == v for k, v in wanted.items()) and (path / "crm.yaml").is_file() \
            and (path / ".git").is_dir():
        log(f"[{size:,}] reusing {path} (generator v{generate.GENERATOR_VERSION})")
        restore(path, meta["head"], env)
        return path, meta
    log(f"[{size:,}] generating {size:,} customers x ~{per} events into {path} ...")
    if path.exists():
        shutil.rmtree(path)
    meta_path.unlink(missing_ok=True)
    DATA.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in IDENTITY}
    os.environ.update(IDENTITY)
    try:
        stats = generate.generate_store(path, size, per, seed=seed, jobs=jobs)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    head = git_out(path, "rev-parse", "HEAD", env=env)
    meta = {**wanted, "head": head, "generated": stats.to_dict()}
    meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    # Every run starts from the state restore() leaves: the index then carries git's cache-tree
    # extension, as it does in any store where someone ran git commit, checkout or pull.
    restore(path, head, env)
    log(f"[{size:,}] generated in {stats.total_s:.1f}s ({stats.events:,} events, {stats.files:,} files; "
        f"commit {stats.commit_s:.1f}s)")
    return path, meta


def sample_customers(store: Path, count: int = 5) -> list[tuple[str, str]]:
    """(id, name) of a few customers spread over the store, deterministically."""
    from crmcli import yamlio

    base = store / "customers"
    shards = sorted(p for p in base.iterdir() if p.is_dir())
    picked: list[tuple[str, str]] = []
    for shard in shards[:: max(1, len(shards) // count)][:count]:
        folders = sorted(p for p in shard.iterdir() if p.is_dir())
        if folders:
            folder = folders[len(folders) // 2]
            data = yamlio.loads((folder / "customer.yaml").read_text(encoding="utf-8"))
            picked.append((folder.name, str(data.get("name"))))
    return picked


# -- floors -------------------------------------------------------------------------------------------
PARSE_SCRIPT = r"""
import os, sys, yaml
def parse(path):
    with open(path, encoding="utf-8") as fh:
        yaml.load(fh.read(), Loader=yaml.CSafeLoader)
for shard in os.scandir(sys.argv[1]):
    if not shard.is_dir():
        continue
    for c in os.scandir(shard.path):
        parse(os.path.join(c.path, "customer.yaml"))
        if sys.argv[2] == "all":
            journal = os.path.join(c.path, "journal")
            for n in (os.listdir(journal) if os.path.isdir(journal) else []):
                parse(os.path.join(journal, n))
"""
STAT_SCRIPT = r"""
import os, sys, click, yaml
for shard in os.scandir(sys.argv[1]):
    if shard.is_dir():
        for c in os.scandir(shard.path):
            os.stat(os.path.join(c.path, "customer.yaml"))
"""

SQLITE_SCRIPT = r"""
import sqlite3, sys, click
db = sqlite3.connect(sys.argv[1])
db.execute("SELECT count(*) FROM sqlite_master").fetchone()
"""


class Floors:
    """Floors measured once per size, lazily, in the same run as the scenarios."""

    def __init__(self, store: Path, env: dict[str, str], reps: int, scratch: Path, budget: float | None = None):
        self.store, self.env, self.reps, self.scratch, self.budget = store, env, reps, scratch, budget
        self.values: dict[str, Timing] = {}

    def get(self, name: str) -> float:
        if name not in self.values:
            self.values[name] = getattr(self, "_" + name.replace("+", "_").replace("@", "_at_"))()
        return self.values[name].median

    def _py(self, *args: str) -> Timing:
        return repeat(self.reps, lambda i: timed([sys.executable, *args], self.store, self.env), self.budget)

    def _interpreter(self) -> Timing:
        return self._py("-c", "pass")

    def _start(self) -> Timing:
        return self._py("-c", "import click, yaml")

    def _git_small(self) -> Timing:
        repo = self.scratch / "small-repo"
        if not repo.exists():
            repo.mkdir(parents=True)
            subprocess.run(["git", "init", "-q"], cwd=repo, env=self.env, check=True)
            (repo / "README").write_text("small\n")
            subprocess.run(["git", "add", "README"], cwd=repo, env=self.env, check=True)
            subprocess.run(["git", "commit", "-qm", "init"], cwd=repo, env=self.env, check=True)
        return repeat(self.reps, lambda i: self._git_commit_one(repo, f"probe-{time.time_ns()}"))

    def _git_commit_one(self, repo: Path, name: str) -> Run:
        (repo / "bench-probe").mkdir(exist_ok=True)
        rel = f"bench-probe/{name}.txt"
        (repo / rel).write_text(f"{name}\n")
        t = time.perf_counter()
        for cmd in (["git", "add", "--", rel], ["git", "commit", "-q", "-m", f"probe {name}", "--", rel]):
            proc = subprocess.run(cmd, cwd=repo, env=self.env, capture_output=True)
            if proc.returncode:
                return time.perf_counter() - t, f"{' '.join(cmd[:2])}: {proc.stderr.decode()[-200:]}", proc.returncode
        return time.perf_counter() - t, None, 0

    def _git_at_size(self) -> Timing:
        # plain git add + git commit of one small file in this very store (undone by restore())
        return repeat(self.reps, lambda i: self._git_commit_one(self.store, f"probe-{time.time_ns()}"))

    def _start_commit(self) -> Timing:
        self.get("start")
        self.get("git_small")
        return Timing([self.values["start"].median + self.values["git_small"].median], exits={0})

    def _start_stat(self) -> Timing:
        return self._py("-c", STAT_SCRIPT, str(self.store / "customers"))

    def _start_sqlite(self) -> Timing:
        """Start-up, import click, open the index's SQLite file (the floor of reads through the index)."""
        path = self.store / ".git" / "crm" / "cache" / "index.sqlite"
        if not path.exists():
            subprocess.run([*crm_command(), "reindex"], cwd=self.store, env=self.env, capture_output=True)
        return self._py("-c", SQLITE_SCRIPT, str(path))

    def _parse_profiles(self) -> Timing:
        return self._py("-c", PARSE_SCRIPT, str(self.store / "customers"), "profiles")

    def _parse_all(self) -> Timing:
        return self._py("-c", PARSE_SCRIPT, str(self.store / "customers"), "all")


# -- scenarios ----------------------------------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    floor: str  # a Floors value
    args: Callable[[int], list[str]] | None = None  # crm arguments for repetition i
    setup: Callable[[int], None] | None = None  # untimed, before each repetition
    ok: tuple[int, ...] = (0,)
    note: str = ""
    cwd: Callable[[int], Path] | None = None


@dataclass
class Context:
    size: int
    store: Path
    env: dict[str, str]
    reps: int
    scratch: Path
    all: bool
    sample: list[tuple[str, str]]
    commands: dict[str, Any]
    budget: float | None = None
    run_id: str = field(default_factory=lambda: f"{time.time_ns() % 10**8:x}")


def available_commands() -> dict[str, Any]:
    """The Click command objects crm has right now (the harness grows as commands land)."""
    from crmcli.cli.main import COMMANDS, LazyGroup, cli

    out: dict[str, Any] = {}
    for name in COMMANDS:
        with contextlib.suppress(Exception):
            out[name] = LazyGroup.get_command(cli, None, name)  # type: ignore[arg-type]
    return out


def _param(cmd: Any, *names: str) -> Any:
    for p in getattr(cmd, "params", []):
        if p.name in names:
            return p
    return None


def _sub(cmd: Any, *names: str) -> tuple[list[str], Any]:
    """(["sub"], command) for a group (first of ``names`` it has), else ([], cmd)."""
    import click

    if isinstance(cmd, click.Group):
        for n in names:
            if n in cmd.commands:
                return [n], cmd.commands[n]
        return [], None
    return [], cmd


def scenarios(ctx: Context) -> Iterator[Scenario]:
    cid, cname = ctx.sample[0]
    size, store = ctx.size, ctx.store

    def add_args(i: int) -> list[str]:
        return ["customer", "add", f"Bench Probe {ctx.run_id} {i}", "--industry", "software", "--tier", "B"]

    yield Scenario("customer.add", "start+commit", add_args)

    def drop_cache(i: int) -> None:
        shutil.rmtree(store / ".git" / "crm" / "cache", ignore_errors=True)

    yield Scenario("customer.list.cold", "parse_profiles", lambda i: ["customer", "list", "--format", "csv"],
                   setup=drop_cache, note="all rows, csv; .git/crm/cache deleted first")
    yield Scenario("customer.list.warm", "start+stat", lambda i: ["customer", "list", "--format", "csv"],
                   note="all rows, csv")
    yield Scenario("customer.list.table", "start+stat", lambda i: ["customer", "list", "--limit", "20"],
                   note="warm, table of 20")
    yield Scenario("customer.list.tier", "start+stat", lambda i: ["customer", "list", "--tier", "A", "--format", "csv"],
                   note="warm, --tier A filtered in SQL")
    yield Scenario("customer.show", "start", lambda i: ["customer", "show", ctx.sample[i % len(ctx.sample)][0]])
    yield Scenario("customer.show.name", "start",
                   lambda i: ["customer", "show", ctx.sample[i % len(ctx.sample)][1]], note="by exact name")
    if size <= CHECK_LIMIT or ctx.all:
        def drop_check_cache(i: int) -> None:
            (store / ".git" / "crm" / "check-state.marshal").unlink(missing_ok=True)

        yield Scenario("check", "parse_all", lambda i: ["check"], setup=drop_check_cache, ok=(0, 1),
                       note="cold: .git/crm/check-state.marshal deleted first")
        yield Scenario("check.warm", "start+stat", lambda i: ["check"], ok=(0, 1),
                       note="nothing changed since the last check")

        def log_one(i: int) -> None:
            subprocess.run([*crm_command(), "check"], cwd=store, env=ctx.env, capture_output=True)
            subprocess.run([*crm_command(), "log", cid, "call", f"Bench check probe {ctx.run_id} {i}"], cwd=store,
                           env=ctx.env, capture_output=True, check=True)

        yield Scenario("check.one", "start+stat", lambda i: ["check"], setup=log_one, ok=(0, 1),
                       note="one customer changed since the last check")
    else:
        yield Scenario("check", "parse_all", note=f"skipped above {CHECK_LIMIT:,} customers (use --all)")

    cmds = ctx.commands
    for name in OPTIONAL:
        if name not in cmds:
            yield Scenario(name, "start", note="not implemented yet")
            continue
        yield from _optional(ctx, name, cmds[name], cid, cname)


def _optional(ctx: Context, name: str, cmd: Any, cid: str, cname: str) -> Iterator[Scenario]:
    size = ctx.size
    if name == "log":
        yield Scenario("log", "start+commit", lambda i: ["log", ctx.sample[i % len(ctx.sample)][0], "call",
                                                         f"Bench probe call {ctx.run_id} {i}"])
    elif name in ("show", "timeline"):
        yield Scenario(name, "start", lambda i: [name, ctx.sample[i % len(ctx.sample)][0]])
    elif name == "search":
        word = cname.split()[0] if " " in cname else cname[:2]
        yield Scenario("search", "parse_all", lambda i: ["search", word], ok=(0, 1), note=f"search {word!r}")
        yield Scenario("search.profiles", "start+stat", lambda i: ["search", word, "-t", "customer", "-t", "contact"],
                       ok=(0, 1), note=f"search {word!r} in profiles only: the SQLite index, warm")
    elif name in ("agenda", "pipeline"):
        yield from _store_wide(ctx, [[name]] + ([["task", "list"], ["opp", "list"], ["ticket", "list"],
                                                 ["timeline", "--all", "--since", "7d"]] if name == "agenda" else
                                                [["pipeline", "--as-of", "2026-06-30"]]))
    elif name == "report":
        import click

        if isinstance(cmd, click.Group):
            for sub in list(cmd.commands)[:6]:
                yield Scenario(f"report.{sub}", "parse_all", lambda i, s=sub: ["report", s], ok=(0, 1))
        else:
            yield Scenario("report", "parse_all", lambda i: ["report"], ok=(0, 1))
    elif name == "import":
        yield from _import(ctx, cmd)
    elif name == "site":
        yield from _site(ctx)
    elif name == "export":
        prefix, sub = _sub(cmd, "customers", "customer")
        if sub is None:
            yield Scenario("export", "parse_all", note="export has no customers subcommand; not timed")
            return
        for label, kind, suffix, floor in (("export.customers", "customers", "csv", "parse_profiles"),
                                           ("export.all", "all", "xlsx", "parse_all")):
            args = ["export", *prefix]
            kinds = _param(sub, "kind")
            if kinds is not None:
                if kind not in getattr(kinds.type, "choices", [kind]):
                    continue
                args += [kinds.opts[0], kind]
            elif kind != "customers":
                continue
            fmt = _param(sub, "fmt", "format")
            if fmt is not None and suffix in getattr(fmt.type, "choices", []):
                args += [fmt.opts[0], suffix]
            out = _param(sub, "output", "out", "path", "file")
            target = ctx.scratch / f"export-{size}.{suffix}"
            if out is not None and out.opts and out.opts[0].startswith("-"):
                args += [out.opts[0], str(target)]
            elif out is not None:
                args += [str(target)]
            shown = " ".join(a if not a.startswith(str(ctx.scratch)) else f"FILE.{suffix}" for a in args)
            yield Scenario(label, floor, lambda i, a=args: a, note=shown)


def _site(ctx: Context) -> Iterator[Scenario]:
    """``crm site build`` (issue 21): into a new folder, then again after one ``crm log`` (incremental)."""
    out = ctx.scratch / f"site-{ctx.size}"
    args = ["site", "build", "-o", str(out)]

    def fresh(i: int) -> None:
        shutil.rmtree(out, ignore_errors=True)

    def one_change(i: int) -> None:
        if not (out / ".crm-site.json").is_file():
            timed(crm_command() + args, ctx.store, ctx.env)
        cid = ctx.sample[i % len(ctx.sample)][0]
        timed(crm_command() + ["log", cid, "call", f"Bench site probe {ctx.run_id} {i}"], ctx.store, ctx.env)

    yield Scenario("site.build.full", "parse_all", lambda i: args, setup=fresh, note="into a new folder")
    yield Scenario("site.build.one", "start+stat", lambda i: args, setup=one_change,
                   note="after one crm log (untimed): that customer's page, the agenda, the customers report")


def _store_wide(ctx: Context, commands: list[list[str]]) -> Iterator[Scenario]:
    """Store-wide lists read through the SQLite index: warm (floor: start + open the SQLite file), and cold
    (the index deleted first: a full build, floor: parsing every file)."""
    store = ctx.store

    def drop_index(i: int) -> None:
        shutil.rmtree(store / ".git" / "crm" / "cache", ignore_errors=True)

    if commands and commands[0] == ["agenda"]:
        yield Scenario("catchup.100", "start+sqlite", lambda i: ["task", "list", "--format", "csv"],
                       setup=lambda i: _pulled(ctx, 100, i), ok=(0, 1),
                       note="warm index, then 100 customers changed by a commit crm did not make (a pull)")
    for args in commands:
        label = ".".join(a.lstrip("-") for a in args if not a[0].isdigit())
        yield Scenario(label, "start+sqlite", lambda i, a=args: a, ok=(0, 1), note="warm index")
        yield Scenario(f"{label}.cold", "parse_all", lambda i, a=args: a, setup=drop_index, ok=(0, 1),
                       note="index deleted first")


def _pulled(ctx: Context, count: int, i: int) -> None:
    """Warm the index, then change ``count`` customers in one commit made by plain git, as a pull would."""
    subprocess.run([*crm_command(), "task", "list", "--format", "csv"], cwd=ctx.store, env=ctx.env,
                   capture_output=True)
    names = []
    for n, profile in enumerate(sorted((ctx.store / "customers").glob("*/*/customer.yaml"))):
        if n >= count:
            break
        with profile.open("a", encoding="utf-8") as fh:
            fh.write(f"# touched by the bench, round {ctx.run_id} {i}\n")
        names.append(str(profile.relative_to(ctx.store)))
    subprocess.run(["git", "add", "--", *names], cwd=ctx.store, env=ctx.env, check=True)
    subprocess.run(["git", "commit", "-qm", f"bench: touch {count} customers"], cwd=ctx.store, env=ctx.env,
                   check=True)


def _import(ctx: Context, cmd: Any) -> Iterator[Scenario]:
    rows = ctx.size
    if rows > CHECK_LIMIT and not ctx.all:
        yield Scenario("import", "start+commit", note=f"skipped above {CHECK_LIMIT:,} rows (use --all)")
        return
    prefix, sub = _sub(cmd, "customers", "customer")
    if sub is None:
        yield Scenario("import", "start+commit", note="import has no customers subcommand; not timed")
        return
    csv_path = ctx.scratch / f"import-{rows}.csv"
    if not csv_path.exists():
        generate.write_csv(csv_path, generate.import_rows(rows, seed=7), "en")
    extra = []
    kinds = _param(sub, "kind")
    if kinds is not None and "customers" in getattr(kinds.type, "choices", []):
        extra += [kinds.opts[0], "customers"]
    yes = _param(sub, "yes")
    if yes is not None:
        extra.append(yes.opts[0])
    target = ctx.scratch / "import-target"

    def fresh(i: int) -> None:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        subprocess.run(["git", "init", "-q"], cwd=target, env=ctx.env, check=True)
        subprocess.run([*crm_command(), "init", str(target)], cwd=target, env=ctx.env, check=True,
                       capture_output=True)

    yield Scenario("import", "start+commit", lambda i: ["import", *prefix, str(csv_path), *extra], setup=fresh,
                   cwd=lambda i: target, note=f"{rows:,} CSV rows into an empty store")


def run_scenario(ctx: Context, sc: Scenario) -> Timing:
    crm = crm_command()
    if sc.args is None:
        return Timing(error=None)

    def once(i: int) -> Run:
        if sc.setup:
            sc.setup(i)
        cwd = sc.cwd(i) if sc.cwd else ctx.store
        return timed([*crm, *sc.args(i)], cwd, ctx.env, sc.ok)

    return repeat(ctx.reps, once, ctx.budget)


# -- where the time of one write goes ---------------------------------------------------------------
BREAKDOWN_SCRIPT = r"""
import json, os, sys, time
t0 = time.perf_counter()
import click, yaml
t1 = time.perf_counter()
from crmcli.cli import main as m
from crmcli.store import git
from crmcli.store import store as st
from crmcli.actions import customer as customers
from crmcli.store import index
from crmcli.cli import customer as cli_customers
t2 = time.perf_counter()
spent = {}
real = git.run
def run(args, *a, **k):
    t = time.perf_counter()
    try:
        return real(args, *a, **k)
    finally:
        name = "git " + next((x for x in args if not x.startswith("-")), args[0])  # past global options
        spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
git.run = run
try:
    m.main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
t3 = time.perf_counter()
late = [n for n in ("pypinyin", "tabulate", "pandas", "openpyxl") if n in sys.modules]
with open(sys.argv[1], "w") as fh:
    json.dump({"import click+yaml": t1 - t0, "import crmcli": t2 - t1, "command": t3 - t2, "git": spent,
               "exit": code, "late_imports": late}, fh)
"""


def breakdown(ctx: Context, label: str, args_for: Callable[[int], list[str]], floors: Floors) -> dict[str, Any]:
    """Median seconds per component of one write command, measured in a wrapper process."""
    parts: dict[str, list[float]] = {}
    walls = []
    late: list[str] = []
    out = ctx.scratch / "breakdown.json"
    for i in range(ctx.reps):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", BREAKDOWN_SCRIPT, str(out), *args_for(i)], cwd=ctx.store,
                       env=ctx.env, capture_output=True, check=False)
        walls.append(time.perf_counter() - t)
        data = json.loads(out.read_text())
        if data.get("exit") not in (0, None):
            return {"error": f"exit {data.get('exit')}"}
        git_total = sum(data["git"].values())
        flat = {"import click+yaml": data["import click+yaml"], "import crmcli": data["import crmcli"],
                **data["git"], "python in crm (not git)": data["command"] - git_total}
        for k, v in flat.items():
            parts.setdefault(k, []).append(v)
        late = data.get("late_imports", [])
    result = {k: statistics.median(v) for k, v in parts.items()}
    result = {"interpreter start": floors.get("interpreter"), **result}
    result["wall (wrapper)"] = statistics.median(walls)
    with contextlib.suppress(OSError):
        result["index bytes"] = (ctx.store / ".git" / "index").stat().st_size
    return {"command": label, "seconds": result, "late_imports": late}


def run_breakdowns(ctx: Context, floors: Floors) -> list[dict]:
    out = [{"size": ctx.size, **breakdown(ctx, "customer add", lambda i: [
        "customer", "add", f"Bench Breakdown {ctx.run_id} {i}"], floors)}]
    if "log" in ctx.commands:
        out.append({"size": ctx.size, **breakdown(ctx, "log", lambda i: [
            "log", ctx.sample[i % len(ctx.sample)][0], "call", f"Bench breakdown {ctx.run_id} {i}"], floors)})
    return out


# -- report ----------------------------------------------------------------------------------------------
def fmt_s(x: float | None) -> str:
    if x is None or x != x:
        return "-"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def print_table(rows: list[dict]) -> None:
    head = ["scenario", "size", "median", "min-max", "floor", "floor kind", "ratio", "peak", "git@N", "note"]
    table = [head]
    for r in rows:
        t = r.get("timing", {})
        if "median" in t:
            med, rng = fmt_s(t["median"]), f"{fmt_s(t['min'])}-{fmt_s(t['max'])}"
            ratio = f"{t['median'] / r['floor']:.1f}x" if r.get("floor") else "-"
        else:
            med, rng, ratio = "-", "-", "-"
        note = r.get("note", "")
        codes = [c for c in t.get("exit_codes", []) if c]
        if codes:
            note = (note + "; " if note else "") + "exit " + ",".join(map(str, codes))
        if t.get("error"):
            note = (note + "; " if note else "") + "ERROR " + t["error"]
        peak = f"{t['peak_mb']:.0f} MB" if t.get("peak_mb") else "-"
        table.append([r["scenario"], f"{r['size']:,}", med, rng, fmt_s(r.get("floor")), r["floor_kind"], ratio,
                      peak, fmt_s(r.get("git_at_size")), note])
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head) - 1)]
    for n, row in enumerate(table):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
        if n == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 4)


def print_breakdowns(items: list[dict]) -> None:
    for b in items:
        if "error" in b:
            print(f"\nbreakdown of {b.get('command')} at {b['size']:,}: {b['error']}")
            continue
        print(f"\nwhere `crm {b['command']}` spends its time at {b['size']:,} customers (medians):")
        for k, v in b["seconds"].items():
            print(f"  {k:<28} {v / 1024:,.0f} KB" if k == "index bytes" else f"  {k:<28} {fmt_s(v)}")
        if b.get("late_imports"):
            print(f"  (also imported: {', '.join(b['late_imports'])})")


# -- main ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", DEFAULT_SIZES),
                   help=f"Comma-separated store sizes (default {DEFAULT_SIZES}, or $BENCH_SIZES).")
    p.add_argument("--repeat", type=int, default=5, help="Runs per scenario (median, min, max).")
    p.add_argument("--only", action="append", default=[],
                   help="Only scenarios whose name starts with this (repeatable), e.g. customer.add.")
    p.add_argument("--all", action="store_true", help=f"Also crm check and import above {CHECK_LIMIT:,}.")
    p.add_argument("--interactions-per", type=int, default=10)
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="Generator worker processes.")
    p.add_argument("--budget", type=float, default=120.0,
                   help="Stop repeating a scenario once its runs took this many seconds (default 120).")
    p.add_argument("--no-breakdown", action="store_true", help="Skip the time breakdown of customer add / log.")
    p.add_argument("--output", type=Path, default=RESULTS, help="Where to write the JSON results.")
    args = p.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes {args.sizes!r}: give numbers like 100,10000")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")

    info = machine()
    log(f"crm bench: sizes {', '.join(f'{s:,}' for s in sizes)}; {args.repeat} runs each; "
        f"{info['nproc']} x {info['cpu']}; python {info['python']}; git {info['git']}")
    commands = available_commands()
    rows: list[dict] = []
    breakdowns: list[dict] = []
    stores: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        scratch = Path(tmp)
        home = scratch / "home"
        home.mkdir()
        env = bench_env(home)
        for size in sizes:
            store, meta = cached_store(size, args.interactions_per, args.seed, env, args.jobs)
            stores[str(size)] = {k: meta.get(k) for k in ("head", "generated", "interactions_per", "seed")}
            ctx = Context(size, store, env, args.repeat, scratch / f"s{size}", args.all, sample_customers(store),
                          commands, budget=args.budget)
            ctx.scratch.mkdir()
            floors = Floors(store, env, args.repeat, ctx.scratch, args.budget)
            try:
                for sc in scenarios(ctx):
                    if args.only and not any(sc.name.startswith(o) for o in args.only):
                        continue
                    log(f"[{size:,}] {sc.name} ...")
                    timing = run_scenario(ctx, sc)
                    row = {"scenario": sc.name, "size": size, "timing": timing.summary() if sc.args else {},
                           "floor_kind": sc.floor, "note": sc.note}
                    if sc.args and timing.times:
                        row["floor"] = floors.get(sc.floor)
                        if sc.floor == "start+commit":
                            row["git_at_size"] = floors.get("git_at_size")
                    rows.append(row)
                if not args.no_breakdown and (not args.only or any("customer.add".startswith(o) or
                                                                   o.startswith("breakdown") for o in args.only)):
                    log(f"[{size:,}] breakdown of customer add ...")
                    breakdowns += run_breakdowns(ctx, floors)
            finally:
                log(f"[{size:,}] restoring {store} to {meta['head'][:8]}")
                restore(store, meta["head"], env)
            floor_values = {k: v.summary() for k, v in floors.values.items()}
            stores[str(size)]["floors"] = floor_values
    print()
    print(f"machine: {info['nproc']} x {info['cpu']}, {info['memory']}, python {info['python']}, git {info['git']}")
    print_table(rows)
    print_breakdowns(breakdowns)
    result = {"machine": info, "repeat": args.repeat, "sizes": sizes, "stores": stores, "results": rows,
              "breakdowns": breakdowns}
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
