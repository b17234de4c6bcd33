"""The records store: finding it, ids, transactions, crash recovery, the lock, the profile cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crmcli.actions.customer import add_customer
from crmcli.config import load_config
from crmcli.domain import ids
from crmcli.errors import GitError, InvalidRecord, NotFound, StoreError
from crmcli.store import index as index_mod
from crmcli.store.location import find_root, open_store
from crmcli.store.store import Store
from crmcli.store.transaction import recover
from tests.conftest import commits, git, snapshot


def python(code: str, cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


# -- finding the store ----------------------------------------------------------------------------------


def test_find_root_from_option_env_and_parents(store_dir: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    sub = store_dir / "customers" / "deeper"
    sub.mkdir()
    assert find_root(cwd=sub) == store_dir
    assert find_root(str(store_dir), cwd=tmp_path) == store_dir
    monkeypatch.setenv("CRM_RECORDS", str(store_dir))
    assert find_root(cwd=tmp_path) == store_dir
    other = tmp_path / "other"
    other.mkdir()
    (other / "crm.yaml").write_text("format: 1\n")
    assert find_root(str(other)) == other  # --records wins over CRM_RECORDS
    monkeypatch.setenv("CRM_RECORDS", str(tmp_path / "nowhere"))
    with pytest.raises(StoreError) as err:
        find_root(cwd=store_dir)
    assert str(err.value) == (f"{tmp_path / 'nowhere'}: no records store here (CRM_RECORDS); "
                              f"create one with: crm init {tmp_path / 'nowhere'}")
    monkeypatch.delenv("CRM_RECORDS")
    with pytest.raises(StoreError) as err:
        find_root(cwd=tmp_path)
    assert "crm init" in str(err.value)


def test_store_discovery_through_the_cli(invoke, store_dir: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cid = invoke("customer", "add", "Acme Corp").stdout.strip()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(store_dir / "customers" / "ac")
    assert invoke("customer", "show", cid).exit_code == 0

    monkeypatch.chdir(elsewhere)
    r = invoke("customer", "list")
    assert r.exit_code == 5
    assert r.stderr == ("crm: error: no records store found here or above; create one with: crm init [DIR], "
                        "or point to one with --records DIR or CRM_RECORDS\n")
    assert invoke("--records", str(store_dir), "customer", "show", cid).exit_code == 0
    assert invoke("customer", "show", cid, "--records", str(store_dir)).exit_code == 0
    r = invoke("--records", str(tmp_path / "nope"), "customer", "list")
    assert r.exit_code == 5
    assert r.stderr == (f"crm: error: {tmp_path / 'nope'}: no records store here (--records); "
                        f"create one with: crm init {tmp_path / 'nope'}\n")
    monkeypatch.setenv("CRM_RECORDS", str(tmp_path / "nope"))
    r = invoke("customer", "list")
    assert r.exit_code == 5
    assert r.stderr == (f"crm: error: {tmp_path / 'nope'}: no records store here (CRM_RECORDS); "
                        f"create one with: crm init {tmp_path / 'nope'}\n")
    monkeypatch.setenv("CRM_RECORDS", str(store_dir))
    r = invoke("customer", "add", "Beta")
    assert r.exit_code == 0, r.output
    assert commits(store_dir)[0].startswith("Add customer Beta (")
    assert not (elsewhere / "customers").exists()


def test_newer_or_broken_format_is_refused(store_dir: Path) -> None:
    config = store_dir / "crm.yaml"
    text = config.read_text()
    config.write_text(text.replace("format: 1", "format: 2"))
    with pytest.raises(StoreError) as err:
        open_store(None)
    assert str(err.value) == (f"{config}: records format 2 is newer than this crm understands (1); "
                              "upgrade crmcli (pip install -U crmcli)")
    config.write_text(text.replace("format: 1", "format: one"))
    with pytest.raises(InvalidRecord) as err2:
        load_config(store_dir)
    assert str(err2.value) == f"{config}:1: format must be a whole number (this crm writes 1)"
    config.write_text(text.replace("tiers:\n- A\n- B\n- C\n- D\n", "tiers: []\n"))
    with pytest.raises(InvalidRecord) as err3:
        load_config(store_dir)
    assert str(err3.value).endswith(": tiers must be a non-empty list")
    config.write_text(text + "future_setting: 42\n")
    assert load_config(store_dir)["future_setting"] == 42


# -- ids -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "slug"), [
    ("Acme Corp", "acme-corp"),
    ("  ACME   corp!!  ", "acme-corp"),
    ("Café Müller & Söhne", "cafe-muller-sohne"),
    ("深圳市基石协作科技有限公司", "shen-zhen-shi-ji-shi-xie-zuo-ke"),
    ("北京字节跳动有限公司", "bei-jing-zi-jie-tiao-dong"),
    ("李娜", "li-na"),
    ("公司", "gong-si"),
    ("ABC 科技", "abc-ke-ji"),
    ("IBM中国有限公司", "ibm-zhong-guo"),
    ("华为 Huawei Technologies", "hua-wei-huawei-technologies"),
    ("🚀", "customer"),
    ("", "customer"),
    ("a" * 40, "a" * 32),
    ("Internationalization Business Machines Corporation", "internationalization-business"),
])
def test_slugify(name: str, slug: str) -> None:
    assert ids.slugify(name) == slug


def test_new_ids() -> None:
    made = {ids.new_customer_id("深圳市基石协作科技有限公司") for _ in range(50)}
    assert len(made) >= 45  # random 4-character suffixes (32**4): a clash or two is possible, not many
    for cid in made:
        slug, suffix = cid.rsplit("-", 1)
        assert cid.startswith("shen-zhen") and len(suffix) == 4 and set(suffix) <= set(ids.ALPHABET)
        assert ids.is_valid_customer_id(cid)
    assert not set(ids.ALPHABET) & set("ilou")
    assert ids.shard_of("acme-corp-7k2m") == "ac" and ids.shard_of("a") == "a_"
    for bad in ("Acme", "a--b", "-a", "a-", "a/b", "../x", "a b", "x" * 81, ""):
        assert not ids.is_valid_customer_id(bad)


def test_resolve(store_dir: Path) -> None:
    store = open_store(None)
    acme = add_customer(store, "Acme Corp").id
    inc = add_customer(store, "Acme Inc").id
    jishi = add_customer(store, "深圳市基石协作科技有限公司").id
    assert store.resolve(acme) == acme
    assert store.resolve(f" {acme.upper()} ") == acme
    assert store.resolve("acme-c") == acme
    assert store.resolve("ACME INC") == inc
    assert store.resolve("深圳市基石协作科技有限公司") == jishi
    assert store.resolve("shen") == jishi
    with pytest.raises(NotFound, match=r"ambiguous: Acme Corp \(acme-c\), Acme Inc \(acme-i\); give more of the name"):
        store.resolve("acme")
    with pytest.raises(NotFound, match=r"^no customer 'acme-crop'; did you mean: "):
        store.resolve("acme-crop")
    with pytest.raises(NotFound, match="^no customer 'a\\\\x00b'; see crm customer list$"):
        store.resolve("a\0b")
    twin = add_customer(store, "Acme Corp", force=True).id
    with pytest.raises(NotFound) as err:
        store.resolve("Acme Corp")
    shortest = [c[:len(os.path.commonprefix([acme, twin])) + 1] for c in sorted([acme, twin])]
    assert str(err.value) == (f"several customers are named 'Acme Corp': "
                              f"{', '.join(f'Acme Corp ({c})' for c in shortest)}; use the id in brackets")
    plain = add_customer(store, "Acme").id
    assert store.resolve("Acme") == plain  # an exact name wins over an ambiguous id prefix
    assert store.resolve("acme") == plain
    with pytest.raises(NotFound, match="ambiguous"):
        store.resolve("acme-c")


# -- transactions -------------------------------------------------------------------------------------------


def test_failure_inside_a_transaction_rolls_everything_back(store_dir: Path) -> None:
    store = open_store(None)
    cid = add_customer(store, "Acme Corp").id
    before = snapshot(store_dir)
    path = store.customer_file(cid)
    with pytest.raises(RuntimeError), store.transaction("Half done", action="test", customer=cid) as tx:
        tx.write(path, "name: Changed\n")
        tx.write(store.customer_file("new-one-abcd"), "name: New\n")
        tx.append(store.journal_file(cid, 2026), "- at: 2026-01-01T00:00:00+08:00\n")
        tx.delete(store.root / "customers" / ".gitkeep")
        raise RuntimeError("boom")
    assert snapshot(store_dir) == before
    assert not (store_dir / ".git" / "crm" / "txn").exists()


def test_failure_in_the_commit_rolls_back(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(None)
    cid = add_customer(store, "Acme Corp").id
    before = snapshot(store_dir)

    def broken(*args, **kwargs):
        raise GitError("git fast-import failed: disk full")

    monkeypatch.setattr("crmcli.store.git.commit_paths", broken)
    with pytest.raises(GitError):
        add_customer(store, "Beta")
    with pytest.raises(GitError), store.transaction("Edit", action="customer.edit", customer=cid) as tx:
        tx.write(store.customer_file(cid), "name: Acme Corp\ntier: A\n")
    assert snapshot(store_dir) == before


def _crash_script(store_dir: Path, cid: str, after_commit: bool = False) -> str:
    patch = ""
    if after_commit:
        patch = ("from crmcli.store.store import Transaction\n"
                 "Transaction._close_manifest = lambda self: os._exit(9)\n")
    return f"""
import os
{patch}
from crmcli.store.location import open_store
store = open_store({str(store_dir)!r})
with store.transaction("Crashing", action="test", customer={cid!r}) as tx:
    tx.write(store.customer_file({cid!r}), "name: Acme Corp\\ntier: [half-written\\n")
    tx.write(store.customer_file("new-one-abcd"), "name: New One\\n")
    if not {after_commit!r}:
        os._exit(9)
"""


def test_crash_mid_transaction_is_undone_by_the_next_command(invoke, store_dir: Path) -> None:
    cid = invoke("customer", "add", "Acme Corp", "--tier", "B").stdout.strip()
    before = snapshot(store_dir)
    p = python(_crash_script(store_dir, cid), store_dir)
    p.communicate(timeout=60)
    assert p.returncode == 9
    manifest = store_dir / ".git" / "crm" / "txn" / "manifest.jsonl"
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    # no commit was begun: the commit it would follow is noted only just before committing
    assert records[0] == {"base": None}
    assert [r["path"] for r in records[1:]] == [f"customers/ac/{cid}/customer.yaml",  # store-relative only
                                                "customers/ne/new-one-abcd/customer.yaml"]
    assert "half-written" in (store_dir / "customers" / "ac" / cid / "customer.yaml").read_text()
    # the next command, even one that only reads, sees the records as they were
    r = invoke("customer", "list", "--format", "json")
    assert r.exit_code == 0, r.output
    assert [row["id"] for row in json.loads(r.stdout)] == [cid]
    assert snapshot(store_dir) == before
    assert not (store_dir / ".git" / "crm" / "txn").exists()
    r = invoke("customer", "edit", cid, "--set", "tier=A")
    assert r.exit_code == 0, r.output


def test_crash_before_a_changing_command_recovers_inside_its_transaction(store_dir: Path) -> None:
    store = open_store(None)
    cid = add_customer(store, "Acme Corp").id
    before = snapshot(store_dir)
    p = python(_crash_script(store_dir, cid), store_dir)
    p.communicate(timeout=60)
    assert p.returncode == 9
    # a Store built directly (no open_store) still recovers before its transaction writes
    store = Store(store_dir)
    with store.transaction("Add note", action="test") as tx:
        tx.write(store_dir / "note.txt", "hello\n")
    files, _, _ = snapshot(store_dir)
    assert files == {**before[0], "note.txt": files["note.txt"]}
    assert git(store_dir, "show", "--name-only", "--format=", "HEAD").split() == ["note.txt"]
    assert git(store_dir, "status", "--porcelain") == ""
    assert recover(store) is False


def test_crash_after_the_commit_keeps_the_commit(invoke, store_dir: Path) -> None:
    cid = invoke("customer", "add", "Acme Corp").stdout.strip()
    count = len(commits(store_dir))
    p = python(_crash_script(store_dir, cid, after_commit=True), store_dir)
    p.communicate(timeout=60)
    assert p.returncode == 9
    manifest = store_dir / ".git" / "crm" / "txn" / "manifest.jsonl"
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert records[-1] == {"base": git(store_dir, "rev-parse", "HEAD~1").strip()}  # noted before committing
    assert len(commits(store_dir)) == count + 1
    assert invoke("check").exit_code == 1  # the committed (bad) content is kept, not rolled back
    assert not (store_dir / ".git" / "crm" / "txn").exists()
    assert "half-written" in (store_dir / "customers" / "ac" / cid / "customer.yaml").read_text()
    assert (store_dir / "customers" / "ne" / "new-one-abcd" / "customer.yaml").is_file()
    assert git(store_dir, "status", "--porcelain") == ""


def test_crash_between_commit_and_index_refresh_leaves_a_clean_tree(invoke, store_dir: Path) -> None:
    cid = invoke("customer", "add", "Acme Corp").stdout.strip()
    count = len(commits(store_dir))
    script = _crash_script(store_dir, cid, after_commit=True).replace(
        "from crmcli.store.store import Transaction\n",
        "from crmcli.store import git\nreal = git.run\n"
        "git.run = lambda args, *a, **k: os._exit(9) if args[0] == 'update-index' else real(args, *a, **k)\n"
        "from crmcli.store.store import Transaction\n")
    p = python(script, store_dir)
    p.communicate(timeout=60)
    assert p.returncode == 9
    assert len(commits(store_dir)) == count + 1
    assert git(store_dir, "status", "--porcelain") != ""  # index still on the old content
    # recovery keeps the commit and refreshes the index (the half-written profile is named, and left out)
    assert invoke("customer", "list", "--skip-invalid").exit_code == 9  # partial
    assert not (store_dir / ".git" / "crm" / "txn").exists()
    assert len(commits(store_dir)) == count + 1
    assert git(store_dir, "status", "--porcelain", "--untracked-files=all") == ""


def test_failed_write_leaves_no_temporary_file(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmcli.store import files as files_mod

    store = open_store(None)
    before = snapshot(store_dir)
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the manifest is synced first, then the new customer.yaml
            raise OSError(5, "Input/output error (injected)")

    with monkeypatch.context() as m:
        m.setattr(os, "fsync", failing_fsync)
        with pytest.raises(OSError, match="injected"):
            add_customer(store, "Acme Corp")
        calls[:] = [0]
        with pytest.raises(OSError, match="injected"):
            files_mod.atomic_write(store_dir / "x.txt", b"data", sync=True)
    assert not list(store_dir.glob(".*.tmp")) and not (store_dir / "x.txt").exists()
    assert snapshot(store_dir) == before


def test_a_live_transaction_is_not_recovered_by_a_reader(store_dir: Path) -> None:
    store = open_store(None)
    cid = add_customer(store, "Acme Corp").id
    p = python(f"""
        import sys
        from crmcli.store.location import open_store
        store = open_store({str(store_dir)!r})
        with store.transaction("Slow edit", action="customer.edit", customer={cid!r}) as tx:
            tx.write(store.customer_file({cid!r}), "name: Acme Corp\\ntier: A\\n")
            print("written", flush=True)
            sys.stdin.readline()
        """, store_dir, stdin=subprocess.PIPE)
    try:
        assert p.stdout.readline() == "written\n"
        reader = open_store(str(store_dir))  # must neither wait nor undo the live transaction
        assert reader.load_customer(cid).data == {"name": "Acme Corp", "tier": "A"}
        assert (store_dir / ".git" / "crm" / "txn" / "manifest.jsonl").exists()
    finally:
        p.communicate("go\n", timeout=60)
    assert p.returncode == 0
    assert commits(store_dir)[0] == "Slow edit"
    assert not (store_dir / ".git" / "crm" / "txn").exists()


# -- the lock -----------------------------------------------------------------------------------------------------


def test_lock_makes_a_second_writer_wait_or_time_out(crm, store_dir: Path) -> None:
    holder = python(f"""
        import sys
        from crmcli.store.location import open_store
        with open_store({str(store_dir)!r}).lock():
            print("locked", flush=True)
            sys.stdin.readline()
        """, store_dir, stdin=subprocess.PIPE)
    patient = None
    try:
        assert holder.stdout.readline() == "locked\n"
        before = snapshot(store_dir)
        p = crm("customer", "add", "Impatient", env={"CRM_LOCK_TIMEOUT": "0.2"})
        assert p.returncode == 7
        assert p.stderr == ("crm: error: another crm command has held .git/crm/lock for 0.2s; wait for it to finish "
                            "and retry\n")
        assert snapshot(store_dir) == before
        patient = subprocess.Popen([sys.executable, "-m", "crmcli", "customer", "add", "Patient"], cwd=store_dir,
                                   text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.0)
        assert patient.poll() is None  # still waiting for the lock
        assert snapshot(store_dir) == before
    finally:
        holder.communicate("release\n", timeout=60)
        if patient is not None:
            out, err = patient.communicate(timeout=60)
    assert holder.returncode == 0
    assert patient.returncode == 0, err
    assert out.startswith("patient-")
    assert commits(store_dir)[0] == f"Add customer Patient ({out.strip()})"
    assert git(store_dir, "status", "--porcelain") == ""


# -- the profile index ----------------------------------------------------------------------------------------------


def test_profile_cache_sees_same_size_rewrites(store_dir: Path) -> None:
    store = open_store(None)
    cid = add_customer(store, "Acme Corp", fields={"tier": "A"}).id
    path = store.customer_file(cid)
    text = path.read_text()
    for tier in "BCDABCDA":
        assert [c.get("tier") for c in index_mod.customer_index(store)] == [text.split("tier: ")[1][0]]
        text = text.replace(f"tier: {text.split('tier: ')[1][0]}", f"tier: {tier}")
        path.write_text(text)  # same size, most likely the same mtime tick
    assert [c.get("tier") for c in index_mod.customer_index(store)] == ["A"]


def test_profile_cache_reuses_old_entries_and_survives_damage(store_dir: Path, monkeypatch) -> None:
    store = open_store(None)
    cid = add_customer(store, "Acme Corp").id
    path = store.customer_file(cid)
    old = time.time() - 60
    os.utime(path, (old, old))
    assert [c.id for c in index_mod.customer_index(store)] == [cid]
    reads = []
    with monkeypatch.context() as m:
        m.setattr(index_mod.yamlio, "loads", lambda *a: reads.append(a) or {"name": "x"})
        assert [c.name for c in index_mod.customer_index(store)] == ["Acme Corp"]  # from the cache
    assert reads == []
    cache = store_dir / ".git" / "crm" / "cache" / "index.sqlite"
    cache.write_bytes(b"garbage")
    assert [c.name for c in index_mod.customer_index(store)] == ["Acme Corp"]
    cache.unlink()
    problems: list = []
    path.write_text("name: [\n")
    assert index_mod.customer_index(store, problems=problems) == []
    assert problems == [f"customers/ac/{cid}/customer.yaml:2: unreadable YAML: did not find expected node "
                        "content; fix the file or restore it with git"]
