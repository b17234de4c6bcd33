"""The one place that runs git: argument lists, never a shell.

Commits are written with ``git fast-import`` from HEAD plus the files a command
changed, then only those paths are refreshed in the index. That keeps the cost
of a commit independent of how many customers the repository holds (a plain
``git add`` + ``git commit`` walks the whole index and work tree), never sweeps
in other work the user has staged, and gives bulk imports the same path: one
stream, one commit.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from crmcli.errors import GitError

ZERO = "0" * 40
_IDENT_RE = re.compile(r"^\s*([^<>]*?)\s*<([^<>]*)>\s*$")


def run(args: Sequence[str], cwd: Path | str, *, input: bytes | None = None,
        check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=full_env)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH; install git and try again") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit {proc.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}")
    return proc


def find_top(start: Path) -> Path | None:
    """The work tree containing ``start``, found without starting git."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def init(path: Path) -> None:
    run(["init", "-q", "."], cwd=path)
    # Index v4 compresses paths: smaller index, cheaper to read on every commit.
    run(["config", "index.version", "4"], cwd=path)
    # A split index rewrites only the changed entries: measured at 100,000 customers, one
    # update-index fell from 140-200 ms to 48-64 ms (bench/README.md).
    run(["config", "core.splitIndex", "true"], cwd=path)


@dataclass(frozen=True)
class Ident:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def parse_ident(text: str) -> Ident:
    m = _IDENT_RE.match(text)
    if not m or not m.group(1) or not m.group(2) or "\n" in text:
        raise GitError(f"author {text!r} must look like 'Name <email@example.com>'")
    return Ident(m.group(1), m.group(2))


def _var(top: Path, name: str) -> Ident | None:
    proc = run(["var", name], cwd=top, check=False)
    if proc.returncode != 0:
        return None
    return _ident_of(proc.stdout.decode("utf-8", "replace").strip())


def _ident_of(raw: str) -> Ident | None:
    """The ident in ``git var``'s "Name <email> 1700000000 +0800", or None."""
    try:
        return parse_ident(raw.rsplit(" ", 2)[0])
    except GitError:
        return None


def _git_idents(top: Path) -> tuple[Ident | None, Ident | None]:
    """(author, committer) as git would commit them, in one ``git var -l`` when it can.

    ``git var -l`` is lenient: where no name or email was configured it makes one up from the
    account and host. Its answer is taken only when both idents come from an explicit name and
    email (environment or config); otherwise the strict ``git var NAME`` calls decide, so an
    unknown identity is refused exactly as git refuses it.
    """
    proc = run(["var", "-l"], cwd=top, check=False)
    found: dict[str, str] = {}
    if proc.returncode == 0:
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                found[key] = value  # the last one wins, as in git (the idents come after the config)
    if _explicit(found, "AUTHOR") and _explicit(found, "COMMITTER"):
        author = _ident_of(found.get("GIT_AUTHOR_IDENT", ""))
        committer = _ident_of(found.get("GIT_COMMITTER_IDENT", ""))
        if author is not None and committer is not None:
            return author, committer
    return _var(top, "GIT_AUTHOR_IDENT"), _var(top, "GIT_COMMITTER_IDENT")


def _explicit(config: dict[str, str], who: str) -> bool:
    """Whether git has a name and an email for ``who`` (AUTHOR, COMMITTER) that it did not guess."""
    def pick(field: str) -> str:
        env = f"GIT_{who}_{field.upper()}"
        if env in os.environ:
            return os.environ[env]  # set, even empty, it is what git uses
        key = f"{who.lower()}.{field}"
        return config.get(key, config.get(f"user.{field}", ""))
    return bool(pick("name").strip() and pick("email").strip())


def identities(top: Path, author: str | None) -> tuple[Ident, Ident]:
    """(author, committer): the acting user, and who git says is committing."""
    explicit = parse_ident(author) if author else None
    git_author, committer = _git_idents(top)
    who = explicit or git_author or committer
    if who is None:
        raise GitError(
            "git does not know who you are: run git config --global user.name 'Your Name' and "
            "git config --global user.email you@example.com, or set CRM_AUTHOR='Name <email>'"
        )
    return who, committer or who


def _timestamp() -> str:
    now = time.time()
    offset = time.localtime(now).tm_gmtoff
    sign = "+" if offset >= 0 else "-"
    offset = abs(offset)
    return f"{int(now)} {sign}{offset // 3600:02d}{(offset % 3600) // 60:02d}"


def head_state(top: Path) -> tuple[str, str | None]:
    """(branch ref, commit or None when the branch is unborn)."""
    ref = symbolic_head(top)
    if ref is None:
        raise GitError(detached_advice(top))
    proc = run(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], cwd=top, check=False)
    commit = proc.stdout.decode().strip() if proc.returncode == 0 else None
    return ref, commit or None


def detached_advice(top: Path) -> str:
    """Why HEAD has no branch and what to do: mid-rebase, switching branch would strand the rebase."""
    proc = run(["rev-parse", "--git-path", "rebase-merge", "--git-path", "rebase-apply"], cwd=top, check=False)
    for name in proc.stdout.decode("utf-8", "replace").splitlines():
        if name and (Path(top) / name).is_dir():
            return ("a git rebase is in progress; finish it (resolve the conflicts, git add the files, "
                    "git rebase --continue) or abort it (git rebase --abort), then run crm again")
    return "HEAD is detached; check out a branch (git switch main) before changing records"


def symbolic_head(top: Path) -> str | None:
    """The branch HEAD is on (``refs/heads/main``), or None when HEAD is detached."""
    proc = run(["symbolic-ref", "-q", "HEAD"], cwd=top, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _quote(path: str) -> bytes:
    raw = path.encode("utf-8")
    if not any(c in path for c in ' "\\\n') and not path.startswith('"'):
        return raw
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return b'"' + escaped.encode("utf-8") + b'"'


def commit_paths(top: Path, paths: Iterable[str], message: str, *, author: str | None = None,
                 contents: dict[str, bytes | None] | None = None,
                 idents: tuple[Ident, Ident] | None = None,
                 head: tuple[str, str | None] | None = None) -> str | None:
    """Commit the current content of ``paths`` (relative to ``top``) on HEAD's branch.

    Missing files are recorded as deletions. Returns the new commit id, or None when there are
    no paths. Callers pass only paths they changed; a caller that already knows who commits
    (``idents``) and on what (``head``: the branch ref and its commit) saves git those questions.
    """
    paths = sorted(set(paths))
    if not paths:
        return None
    who, committer = idents or identities(top, author)
    ref, parent = head or head_state(top)
    stamp = _timestamp()
    msg = message.encode("utf-8")
    if not msg.endswith(b"\n"):
        msg += b"\n"
    out = [
        b"commit " + ref.encode() + b"\n",
        b"mark :1\n",
        f"author {who.name} <{who.email}> {stamp}\n".encode(),
        f"committer {committer.name} <{committer.email}> {stamp}\n".encode(),
        b"data %d\n" % len(msg), msg,
    ]
    if parent:
        out.append(b"from " + parent.encode() + b"\n")
    for rel in paths:
        if contents is not None and rel in contents:
            data = contents[rel]
        else:
            try:
                data = (top / rel).read_bytes()
            except FileNotFoundError:
                data = None
        if data is None:
            out.append(b"D " + _quote(rel) + b"\n")
            continue
        out += [b"M 100644 inline " + _quote(rel) + b"\n", b"data %d\n" % len(data), data, b"\n"]
    out.append(b"get-mark :1\ndone\n")  # the new commit's id on stdout: no rev-parse afterwards
    try:
        proc = run(["fast-import", "--quiet", "--done", "--date-format=raw"], cwd=top, input=b"".join(out))
        _refresh_index(top, paths)
    except BaseException:
        _abandon_commit(top, ref, parent, paths)
        raise
    _maybe_gc(top)
    commit = proc.stdout.decode("ascii", "replace").split()[-1:]
    if not commit or not re.fullmatch(r"[0-9a-f]{40,64}", commit[0]):
        return head_state(top)[1]
    return commit[0]


def _abandon_commit(top: Path, ref: str, parent: str | None, paths: list[str]) -> None:
    """After a commit failed half-way: the branch back on ``parent``, these paths' index entries as there.

    The caller rolls the files back; this keeps HEAD and the index from pointing at the abandoned commit.
    """
    proc = run(["rev-parse", "-q", "--verify", ref], cwd=top, check=False)
    now = proc.stdout.decode().strip()
    if not now or now == parent:
        return  # git never moved the branch
    if parent:
        run(["update-ref", "-m", "crm: abandon failed commit", ref, parent, now], cwd=top, check=False)
    else:
        run(["update-ref", "-d", ref, now], cwd=top, check=False)
    spec = b"".join(p.encode("utf-8") + b"\0" for p in paths)
    reset = ["reset", "-q", "--pathspec-from-file=-", "--pathspec-file-nul", parent] if parent else \
        ["rm", "-q", "--cached", "--ignore-unmatch", "--pathspec-from-file=-", "--pathspec-file-nul"]
    run(["--literal-pathspecs", *reset], cwd=top, input=spec, check=False)


def head_blob_ids(top: Path, paths: Sequence[str]) -> list[str | None]:
    """The blob id of each path in HEAD (None where HEAD has no such file), in one ``git ls-tree``.

    One listing of the shards the paths live in, not one lookup per path: ``git cat-file HEAD:path``
    scans each tree along the path, which at 20,000 paths in one shard took two minutes.
    """
    if not paths:
        return []
    proc = run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=top, check=False)
    if proc.returncode != 0:
        return [None] * len(paths)  # unborn branch: nothing committed yet
    head = proc.stdout.decode().strip()
    scopes = sorted({_scope(p) for p in paths})
    spec = ["--", *scopes] if len(scopes) <= 256 else []
    out = run(["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", head, *spec], cwd=top).stdout
    blobs: dict[str, str] = {}
    for item in out.split(b"\0"):
        meta, _, name = item.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == b"blob":
            blobs[name.decode("utf-8", "surrogateescape")] = fields[2].decode()
    return [blobs.get(p) for p in paths]


def staged_paths(top: Path, paths: Sequence[str]) -> set[str]:
    """Those of ``paths`` whose index entry differs from HEAD (changes staged with ``git add``), in one git call.

    Only the index is compared with HEAD's tree (``diff-index --cached``): no file is read or stat'ed.
    """
    if not paths:
        return set()
    scopes = sorted({_scope(p) for p in paths})
    spec = ["--", *scopes] if len(scopes) <= 256 else []
    proc = run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=top, check=False)
    if proc.returncode == 0:
        args = ["diff-index", "--cached", "--name-only", "--no-renames", "-z", "HEAD", *spec]
    else:
        args = ["ls-files", "--cached", "-z", *spec]  # unborn branch: anything in the index is staged
    out = run(["--literal-pathspecs", *args], cwd=top).stdout
    listed = {name.decode("utf-8", "surrogateescape") for name in out.split(b"\0") if name}
    return listed.intersection(paths)


def _scope(path: str) -> str:
    """The folder to list for ``path``: its shard (``customers/ab``) for records, else the path."""
    parts = path.split("/")
    if "customers" in parts[:-1]:
        i = parts.index("customers")
        return "/".join(parts[:i + 2])
    return path


def refresh_index_if_committed(top: Path, paths: Sequence[str]) -> None:
    """Refresh the index entries of those ``paths`` whose work-tree content is exactly HEAD's.

    For recovery after a crash between a commit and its index refresh; staging
    content identical to HEAD never stages anything new.
    """
    if not paths:
        return
    same = []
    for rel, in_head in zip(paths, head_blob_ids(top, paths), strict=True):
        try:
            data: bytes | None = (top / rel).read_bytes()
        except FileNotFoundError:
            data = None
        if (data is None and in_head is None) or (data is not None and in_head == blob_id(data)):
            same.append(rel)
    if same:
        _refresh_index(top, same)


def _refresh_index(top: Path, paths: list[str]) -> None:
    # Index entries for exactly these paths, with fresh stat data so that
    # `git status` agrees with HEAD at once. Paths go on stdin: no ARG_MAX limit.
    data = b"".join(p.encode("utf-8") + b"\0" for p in paths)
    run(["update-index", "--add", "--remove", "-z", "--stdin"], cwd=top, input=data)


def _maybe_gc(top: Path) -> None:
    # git's own heuristic samples objects/17; fast-import does not run gc itself.
    try:
        sample = len(os.listdir(top / ".git" / "objects" / "17"))
    except OSError:
        return
    if sample > 27:
        subprocess.Popen(["git", "gc", "--auto", "--quiet"], cwd=top, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)


def staged_or_dirty(top: Path, pathspec: Sequence[str]) -> list[str]:
    """Paths under ``pathspec`` whose work tree or index differs from HEAD."""
    proc = run(["status", "--porcelain", "-z", "--untracked-files=all", "--", *pathspec], cwd=top)
    names = []
    for item in proc.stdout.split(b"\0"):
        if len(item) > 3:
            names.append(item[3:].decode("utf-8"))
    return names


def log(top: Path, args: Sequence[str]) -> str:
    return run(["log", *args], cwd=top).stdout.decode("utf-8", "replace")


def read_blobs(top: Path, specs: Sequence[str]) -> list[bytes | None]:
    """Contents of ``rev:path`` specs in one git process (None where missing)."""
    if not specs:
        return []
    proc = run(["cat-file", "--batch"], cwd=top, input="".join(s + "\n" for s in specs).encode("utf-8"))
    data = proc.stdout
    results: list[bytes | None] = []
    pos = 0
    for _ in specs:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if header and header[-1] in (b"missing", b"ambiguous"):  # "<spec> missing"; spec may hold spaces
            results.append(None)
            continue
        size = int(header[2])
        results.append(data[pos:pos + size])
        pos += size + 1
    return results
