"""The git side: `crm init`, exactly one commit per change, messages, trailers, authors, the index."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from crmcli import yamlio
from crmcli.errors import GitError
from crmcli.store import git as gitlib
from crmcli.store.gitstate import INSPECT_LIMIT, inspect
from crmcli.store.location import open_store
from crmcli.store.paths import GITATTRIBUTES, GITIGNORE
from tests.conftest import _Main, commits, git, snapshot

STORE_FILES = [".gitattributes", ".gitignore", "crm.yaml", "customers/.gitkeep"]


def run(*args: str):
    return CliRunner().invoke(_Main(), list(args))  # type: ignore[arg-type]


def add(invoke, name: str, *args: str) -> str:
    r = invoke("customer", "add", name, *args)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def head(cwd: Path) -> str:
    return git(cwd, "rev-parse", "HEAD").strip()


def message(cwd: Path, rev: str = "HEAD") -> str:
    return git(cwd, "log", "-1", "--format=%B", rev).rstrip("\n")




# -- crm init ------------------------------------------------------------------------------------------


def test_init_creates_files_repo_and_first_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = run("init", "new/store")
    assert r.exit_code == 0, r.output
    root = tmp_path / "new" / "store"
    assert r.stdout == f"{root}\n"
    assert r.stderr == f"Created records store in new/store; next: crm customer add NAME [{head(root)[:8]}]\n"
    assert (root / ".git").is_dir()
    assert (root / ".gitignore").read_text() == GITIGNORE == "# Derived, rebuildable, never shared (crmcli)\n.crm/\n"
    assert (root / ".gitattributes").read_text() == GITATTRIBUTES
    assert "customers/*/*/journal/*.yaml merge=union\n" in GITATTRIBUTES
    config = yamlio.loads((root / "crm.yaml").read_text())
    assert list(config)[:3] == ["format", "name", "autocommit"]
    assert (config["format"], config["name"], config["autocommit"]) == (1, "store", True)
    assert (root / "customers").is_dir()
    assert commits(root) == ["Create records store store"]
    assert message(root) == "Create records store store\n\nCrm-Action: store.init"
    assert git(root, "ls-files").split() == STORE_FILES
    assert git(root, "status", "--porcelain", "--ignored") == ""  # local state lives in .git/crm
    assert git(root, "config", "index.version").strip() == "4"


def test_init_with_name_then_refuses_a_second_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("init", "--name", "Acme sales").exit_code == 0
    assert yamlio.loads((tmp_path / "crm.yaml").read_text())["name"] == "Acme sales"
    assert commits(tmp_path) == ["Create records store Acme sales"]
    before = snapshot(tmp_path)
    r = run("init", ".")
    assert r.exit_code == 5
    assert r.stderr == "crm: error: crm.yaml already exists; this folder is already a records store\n"
    assert snapshot(tmp_path) == before


def test_init_no_commit_and_into_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = run("init", "s", "--no-commit")
    assert r.exit_code == 0, r.output
    assert r.stderr == "Created records store in s; next: crm customer add NAME (not committed)\n"
    assert subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=tmp_path / "s").returncode != 0
    assert sorted(git(tmp_path / "s", "status", "--porcelain", "--untracked-files=all").split()) == sorted(
        ["??"] * 4 + STORE_FILES)
    (tmp_path / "afile").write_text("x")
    r = run("init", "afile")
    assert r.exit_code == 2
    assert (tmp_path / "afile").read_text() == "x"


def test_init_inside_a_bigger_repo_commits_only_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "big"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README").write_text("hi\n")
    git(repo, "add", "README")
    git(repo, "commit", "-qm", "Existing work")
    first = head(repo)
    (repo / "other.txt").write_text("staged, not mine\n")
    git(repo, "add", "other.txt")
    (repo / "README").write_text("hi\nunstaged edit\n")
    monkeypatch.chdir(repo)
    r = run("init", "客户 records")
    assert r.exit_code == 0, r.output
    store = repo / "客户 records"
    assert not (store / ".git").exists()
    assert commits(repo) == ["Create records store 客户 records", "Existing work"]
    assert git(repo, "rev-parse", "HEAD~1").strip() == first
    assert git(repo, "-c", "core.quotePath=false", "show", "--name-only", "--format=", "HEAD").split("\n")[:-1] == [
        f"客户 records/{f}" for f in STORE_FILES]
    assert git(repo, "status", "--porcelain").splitlines() == [" M README", "A  other.txt"]

    # everything else works in a store below the top, in a folder with a space and CJK in its name
    monkeypatch.chdir(store)
    cid = add(run, "李娜", "--kind", "person", "--tier", "B")
    assert run("customer", "edit", cid, "--set", "tier=A").exit_code == 0
    assert git(repo, "-c", "core.quotePath=false", "show", "--name-only", "--format=", "HEAD").split("\n")[:-1] == [
        f"客户 records/customers/li/{cid}/customer.yaml"]
    r = run("history", cid)
    assert r.exit_code == 0, r.output
    assert [line for line in r.stdout.splitlines() if line.startswith("    ")] == ["    tier: B -> A", "    created"]
    r = run("undo", "--yes")
    assert r.exit_code == 0, r.output
    assert "tier: B\n" in (store / "customers" / "li" / cid / "customer.yaml").read_text()
    assert len(commits(repo)) == 5
    assert git(repo, "status", "--porcelain").splitlines() == [" M README", "A  other.txt"]
    assert git(repo, "diff", "--cached", "--name-only").split() == ["other.txt"]


def test_init_at_the_top_of_a_project_keeps_its_gitignore_and_gitattributes(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("node_modules/\n*.log")  # no final newline
    (tmp_path / ".gitattributes").write_text("*.png binary\n" + GITATTRIBUTES)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "Project")
    monkeypatch.chdir(tmp_path)
    r = run("init", ".")
    assert r.exit_code == 0, r.output
    assert (tmp_path / ".gitignore").read_text() == "node_modules/\n*.log\n" + GITIGNORE
    assert (tmp_path / ".gitattributes").read_text() == "*.png binary\n" + GITATTRIBUTES  # already there
    assert git(tmp_path, "show", "--name-only", "--format=", "HEAD").split() == [".gitignore", "crm.yaml",
                                                                                "customers/.gitkeep"]
    assert git(tmp_path, "status", "--porcelain") == ""


def test_init_inside_an_unborn_repo_keeps_the_staged_file_out(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "notes.txt").write_text("mine\n")
    git(tmp_path, "add", "notes.txt")
    monkeypatch.chdir(tmp_path)
    assert run("init", "crm").exit_code == 0
    assert git(tmp_path, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(tmp_path, "ls-tree", "-r", "--name-only", "HEAD").split() == [f"crm/{f}" for f in STORE_FILES]
    assert git(tmp_path, "status", "--porcelain") == "A  notes.txt\n"


def test_init_through_the_real_entry_point(crm, tmp_path: Path) -> None:
    p = crm("init", "fresh", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"{tmp_path / 'fresh'}\n"
    assert commits(tmp_path / "fresh") == ["Create records store fresh"]
    assert git(tmp_path / "fresh", "status", "--porcelain") == ""
    p = crm("--author", "Bob <bob@example.com>", "init", "second", "--name", "Second", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert git(tmp_path / "second", "log", "--format=%an <%ae>|%s").strip() == (
        "Bob <bob@example.com>|Create records store Second")


# -- one commit per change ----------------------------------------------------------------------------------


def test_each_changing_command_makes_exactly_one_commit(invoke, store_dir: Path) -> None:
    steps = [
        (["customer", "add", "Acme Corp", "--tier", "B"], "customer.add"),
        (["customer", "edit", "acme", "--set", "tier=A"], "customer.edit"),
        (["contact", "add", "acme", "Jane", "--email", "jane@acme.example"], "contact.add"),
        (["customer", "rm", "acme", "--yes"], "customer.rm"),
        (["undo", "--yes"], "undo"),
    ]
    cid = None
    for argv, action in steps:
        before = len(commits(store_dir))
        r = invoke(*argv)
        assert r.exit_code == 0, (argv, r.output)
        cid = cid or r.stdout.strip()
        assert len(commits(store_dir)) == before + 1, argv
        trailers = git(store_dir, "log", "-1", "--format=%(trailers:only,unfold)").strip().splitlines()
        assert trailers == [f"Crm-Action: {action}", f"Crm-Customer: {cid}"], argv
        assert r.stderr.rstrip("\n").endswith(f"[{head(store_dir)[:8]}]"), argv
        assert git(store_dir, "status", "--porcelain", "--untracked-files=all") == "", argv
        # the index is refreshed, not just equal in content
        assert subprocess.run(["git", "diff-files", "--quiet"], cwd=store_dir).returncode == 0
        assert subprocess.run(["git", "diff-index", "--cached", "--quiet", "HEAD"], cwd=store_dir).returncode == 0
    assert commits(store_dir) == [
        f'Undo "Remove customer Acme Corp ({cid})"',
        f"Remove customer Acme Corp ({cid})",
        f"Add contact Jane <jane@acme.example> to Acme Corp ({cid})",
        f"Edit customer Acme Corp ({cid}): tier: B -> A",
        f"Add customer Acme Corp ({cid})",
        "Create records store crm",
    ]


def test_author_from_option_and_environment(invoke, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def who() -> str:
        return git(store_dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip()

    assert invoke("--author", "Bob <bob@example.com>", "customer", "add", "One").exit_code == 0
    assert who() == "Bob <bob@example.com>|Alice Example <alice@example.com>"
    assert invoke("customer", "add", "Two", "--author", "Carol Ng <carol@example.com>").exit_code == 0
    assert who() == "Carol Ng <carol@example.com>|Alice Example <alice@example.com>"
    monkeypatch.setenv("CRM_AUTHOR", "王芳 <wang.fang@example.cn>")
    assert invoke("customer", "add", "Three").exit_code == 0
    assert who() == "王芳 <wang.fang@example.cn>|Alice Example <alice@example.com>"
    assert invoke("--author", "Bob <bob@example.com>", "customer", "add", "Four").exit_code == 0
    assert who() == "Bob <bob@example.com>|Alice Example <alice@example.com>"
    monkeypatch.delenv("CRM_AUTHOR")
    assert invoke("customer", "add", "Five").exit_code == 0
    assert who() == "Alice Example <alice@example.com>|Alice Example <alice@example.com>"


@pytest.mark.parametrize("author", ["bob", "Bob <>", "<bob@example.com>", "Bob <bob@example.com> <x@y.z>"])
def test_bad_author_is_refused_and_changes_nothing(invoke, store_dir: Path, author: str) -> None:
    before = snapshot(store_dir)
    r = invoke("--author", author, "customer", "add", "Acme Corp")
    assert r.exit_code == 6, r.output
    assert r.stderr == f"crm: error: author {author!r} must look like 'Name <email@example.com>'\n"
    assert snapshot(store_dir) == before
    assert not (store_dir / "customers" / "ac").exists()


def test_no_commit_leaves_changes_uncommitted(invoke, store_dir: Path) -> None:
    before = commits(store_dir)
    r = invoke("--no-commit", "customer", "add", "Acme Corp")
    assert r.exit_code == 0, r.output
    cid = r.stdout.strip()
    assert r.stderr == f"Added Acme Corp ({cid}) (not committed)\n"
    assert commits(store_dir) == before
    assert git(store_dir, "status", "--porcelain", "--untracked-files=all") == (
        f"?? customers/ac/{cid}/customer.yaml\n")
    r = invoke("customer", "edit", cid, "--set", "tier=A", "--no-commit")
    assert r.exit_code == 0 and r.stderr == f"Updated Acme Corp ({cid}) (not committed)\n"
    assert commits(store_dir) == before
    assert "tier: A\n" in (store_dir / "customers" / "ac" / cid / "customer.yaml").read_text()


def test_autocommit_false_in_crm_yaml(invoke, store_dir: Path) -> None:
    config = store_dir / "crm.yaml"
    config.write_text(config.read_text().replace("autocommit: true", "autocommit: false"))
    git(store_dir, "commit", "-qam", "Turn autocommit off")
    before = commits(store_dir)
    cid = add(invoke, "Acme Corp")
    assert invoke("contact", "add", cid, "Jane").exit_code == 0
    assert commits(store_dir) == before
    assert git(store_dir, "status", "--porcelain", "--untracked-files=all") == (
        f"?? customers/ac/{cid}/customer.yaml\n")


def test_a_command_without_change_makes_no_commit(invoke, store_dir: Path, tmp_path: Path) -> None:
    cid = add(invoke, "Acme Corp", "--tier", "A")
    before = snapshot(store_dir)
    assert invoke("customer", "edit", cid, "--set", "tier=A").exit_code == 0
    copy = tmp_path / "same.yaml"
    copy.write_text((store_dir / "customers" / "ac" / cid / "customer.yaml").read_text())
    assert invoke("customer", "edit", cid, "--from-file", str(copy)).exit_code == 0
    assert snapshot(store_dir) == before
    # the library path too: a transaction that rewrites identical bytes commits nothing
    store = open_store(None)
    path = store.customer_file(cid)
    with store.transaction("Rewrite", action="test") as tx:
        tx.write(path, path.read_text())
    assert tx.commit is None
    assert snapshot(store_dir) == before


@pytest.mark.parametrize("step", ["fast-import", "update-index"])
def test_a_commit_failing_half_way_leaves_head_index_and_files(invoke, store_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    cid = add(invoke, "Acme Corp", "--tier", "B")
    before = snapshot(store_dir), git(store_dir, "ls-files", "-s")
    real = gitlib.run

    def flaky(args, *rest, **kwargs):  # noqa: ANN001, ANN202
        if args[0] == step:
            if step == "update-index":
                real(args, *rest, **kwargs)  # git got this far (commit made, index staged)
            raise GitError(f"git {step} failed: injected")
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(gitlib, "run", flaky)
    r = invoke("customer", "edit", cid, "--set", "tier=A")
    assert (r.exit_code, r.stderr) == (6, f"crm: error: git {step} failed: injected\n")
    r = invoke("customer", "add", "Beta")
    assert r.exit_code == 6
    monkeypatch.setattr(gitlib, "run", real)
    assert (snapshot(store_dir), git(store_dir, "ls-files", "-s")) == before


def test_detached_head_is_refused_and_changes_nothing(invoke, store_dir: Path) -> None:
    add(invoke, "Acme Corp")
    git(store_dir, "checkout", "-q", "--detach")
    before = snapshot(store_dir)
    r = invoke("customer", "add", "Beta")
    assert r.exit_code == 6
    assert r.stderr == "crm: error: HEAD is detached; check out a branch (git switch main) before changing records\n"
    assert snapshot(store_dir) == before


def test_unknown_git_identity_is_refused_and_rolled_back(invoke, store_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    git(store_dir, "config", "user.useConfigOnly", "true")
    cid = None
    before = snapshot(store_dir)
    r = invoke("customer", "add", "Acme Corp")
    assert r.exit_code == 6, r.output
    assert r.stderr == ("crm: error: git does not know who you are: run git config --global user.name 'Your Name' "
                        "and git config --global user.email you@example.com, or set CRM_AUTHOR='Name <email>'\n")
    assert snapshot(store_dir) == before
    assert not (store_dir / "customers" / "ac").exists()
    assert not (store_dir / ".git" / "crm" / "txn").exists()
    # CRM_AUTHOR alone is enough: it acts as author and committer
    monkeypatch.setenv("CRM_AUTHOR", "Bob <bob@example.com>")
    cid = add(invoke, "Acme Corp")
    assert git(store_dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == (
        "Bob <bob@example.com>|Bob <bob@example.com>")
    assert cid.startswith("acme-corp-")


# -- how many git processes a write costs -------------------------------------------------------------------


def _count_git(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The git subcommand of every git process crm starts from now on (global options dropped)."""
    calls: list[str] = []
    real = gitlib.run

    def counting(args, *rest, **kwargs):  # noqa: ANN001, ANN202
        calls.append(next(a for a in args if not a.startswith("-")))
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(gitlib, "run", counting)
    return calls


def test_log_and_customer_add_run_four_git_processes(invoke, store_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cid = add(invoke, "Acme Corp")
    calls = _count_git(monkeypatch)
    r = invoke("log", cid, "call", "Discussed the renewal")
    assert r.exit_code == 0, r.output
    # who (git var -l), the branch + HEAD's blobs + staged state (git status), the commit, the index
    assert sorted(calls) == ["fast-import", "status", "update-index", "var"]
    calls.clear()
    beta = add(invoke, "Beta Ltd")
    assert sorted(calls) == ["fast-import", "status", "update-index", "var"]
    assert commits(store_dir)[:2] == [f"Add customer Beta Ltd ({beta})", f"Log call with Acme Corp ({cid})"]
    assert git(store_dir, "status", "--porcelain", "--untracked-files=all") == ""


def test_git_trace_counts_the_processes_of_one_log(crm, store_dir: Path, tmp_path: Path) -> None:
    r = crm("customer", "add", "Acme Corp")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    trace = tmp_path / "git-trace.log"
    r = crm("log", cid, "call", "Discussed the renewal", env={"GIT_TRACE": str(trace)})
    assert r.returncode == 0, r.stderr
    started = [line.split("trace: built-in: git ")[1].split()[0] for line in trace.read_text().splitlines()
               if "trace: built-in: git " in line]
    # before: 16 (var x4, symbolic-ref x3, rev-parse x5, ls-tree, diff-index, fast-import, update-index),
    # plus unpack-objects, which fast-import starts for a small pack
    assert started == ["var", "status", "fast-import", "unpack-objects", "update-index"]
    assert git(store_dir, "log", "-1", "--format=%s") == f"Log call with Acme Corp ({cid})\n"


def test_inspect_reads_branch_blobs_and_staged_paths(store_dir: Path) -> None:
    (store_dir / "clean.txt").write_text("clean\n")
    (store_dir / "staged.txt").write_text("one\n")
    (store_dir / "ignored.log").write_text("x\n")
    (store_dir / "skip" / "deep").mkdir(parents=True)
    (store_dir / "skip" / "deep" / "new.txt").write_text("in an ignored folder\n")
    (store_dir / ".git" / "info" / "exclude").write_text("*.log\nskip/\n")
    git(store_dir, "add", "clean.txt", "staged.txt")
    git(store_dir, "commit", "-qm", "two files")
    (store_dir / "staged.txt").write_text("two\n")
    git(store_dir, "add", "staged.txt")
    (store_dir / "clean.txt").write_text("edited\n")
    (store_dir / "new file.txt").write_text("new\n")
    paths = ["clean.txt", "staged.txt", "new file.txt", "ignored.log", "missing.txt", "crm.yaml",
             "skip/deep/new.txt"]
    state = inspect(store_dir, paths)
    in_head = dict(zip(paths, gitlib.head_blob_ids(store_dir, paths), strict=True))
    assert state.in_head == in_head  # the same answer as listing HEAD's tree
    assert state.in_head["clean.txt"] == gitlib.blob_id(b"clean\n")
    assert state.in_head["crm.yaml"] == gitlib.blob_id((store_dir / "crm.yaml").read_bytes())
    assert state.staged == {"staged.txt"} == gitlib.staged_paths(store_dir, paths)
    assert (state.ref, state.commit) == gitlib.head_state(store_dir)
    many = [f"x/{i}.txt" for i in range(INSPECT_LIMIT + 1)] + paths
    assert inspect(store_dir, many).in_head == {**{p: None for p in many}, **in_head}
    git(store_dir, "checkout", "-q", "--detach")
    assert inspect(store_dir, paths).ref is None


# -- the git module ------------------------------------------------------------------------------------------


def test_commit_paths_commits_only_the_given_paths(store_dir: Path) -> None:
    (store_dir / "mine.txt").write_text("one\n")
    (store_dir / "staged.txt").write_text("staged\n")
    git(store_dir, "add", "staged.txt")
    (store_dir / "crm.yaml").write_text((store_dir / "crm.yaml").read_text() + "# local tweak\n")
    sha = gitlib.commit_paths(store_dir, ["mine.txt"], "Add mine\n\nCrm-Action: test\n")
    assert sha == head(store_dir)
    assert git(store_dir, "show", "--name-only", "--format=", "HEAD").split() == ["mine.txt"]
    assert git(store_dir, "status", "--porcelain").splitlines() == [" M crm.yaml", "A  staged.txt"]
    (store_dir / "mine.txt").unlink()
    gitlib.commit_paths(store_dir, ["mine.txt"], "Remove mine")
    assert git(store_dir, "show", "--name-status", "--format=", "HEAD").split() == ["D", "mine.txt"]
    assert git(store_dir, "status", "--porcelain").splitlines() == [" M crm.yaml", "A  staged.txt"]
    assert gitlib.commit_paths(store_dir, [], "Nothing") is None


def test_read_blobs_handles_missing_specs_with_spaces(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a b").mkdir()
    (tmp_path / "a b" / "f.yaml").write_bytes(b"x: 1\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    assert gitlib.read_blobs(tmp_path, ["HEAD:a b/f.yaml", "HEAD:a b/missing.yaml", "HEAD:none",
                                        "HEAD:a b/f.yaml"]) == [b"x: 1\n", None, None, b"x: 1\n"]
    assert gitlib.read_blobs(tmp_path, []) == []


def test_parse_ident_and_head_state(tmp_path: Path) -> None:
    assert gitlib.parse_ident("  Bob Smith <bob@example.com> ") == gitlib.Ident("Bob Smith", "bob@example.com")
    assert str(gitlib.parse_ident("王芳 <wf@example.cn>")) == "王芳 <wf@example.cn>"
    for bad in ("Bob", "<b@x.y>", "Bob <>", "Bob <a> <b>", "Bob <b@x.y>\nEvil <e@x.y>"):
        with pytest.raises(GitError):
            gitlib.parse_ident(bad)
    git(tmp_path, "init", "-q")
    assert gitlib.head_state(tmp_path) == ("refs/heads/main", None)
    assert gitlib.find_top(tmp_path / "deeper" / "still") == tmp_path
    assert gitlib.blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
