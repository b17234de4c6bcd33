"""Issue 13: nothing from a clone, a sync or another user on the machine can read or write what it must not."""
from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Crm, commits, git, snapshot
from tests.conftest import git as run_git

# -- point 12: private by default where it matters (crm init --private, private: true) --


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common default umask, under which git and crm create world-readable files."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _readable_by_others(root: Path) -> list[str]:
    """Every file or folder under root (root and .git included) that group or others may use."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {stat.S_IMODE(mode):o}")
    return found


def _use(crm: Crm) -> None:
    p = crm("customer", "add", "Acme Corp", "--email", "jane@acme.example")
    assert p.returncode == 0, p.stderr
    for args in (("log", "acme", "call", "Discussed the renewal"), ("task", "add", "acme", "Send the quote")):
        p = crm(*args)
        assert p.returncode == 0, (args, p.stderr)


def test_init_private_makes_the_store_owner_only(tmp_path: Path, umask_022: None) -> None:
    crm = Crm(tmp_path)
    # Without --private the store and its git objects are readable by every user of the machine.
    assert crm("init", "open").returncode == 0
    _use(Crm(tmp_path / "open"))
    assert any(line.startswith("open/crm.yaml ") for line in _readable_by_others(tmp_path / "open"))
    assert any(line.startswith("open/.git/objects/") for line in _readable_by_others(tmp_path / "open"))

    p = crm("init", "secret", "--private")
    assert p.returncode == 0, p.stderr
    root = tmp_path / "secret"
    assert "private: true\n" in (root / "crm.yaml").read_text(encoding="utf-8")
    _use(Crm(root))
    assert _readable_by_others(root) == []
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "crm.yaml").stat().st_mode) == 0o600
    assert Crm(root)("check").returncode == 0


def test_private_setting_in_crm_yaml_is_honoured_by_later_writes(crm: Crm, store_dir: Path, umask_022: None) -> None:
    os.chmod(store_dir, 0o755)
    config = store_dir / "crm.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "private: true\n", encoding="utf-8")
    assert crm("--no-commit", "customer", "add", "Beta").returncode == 0  # the setting is read, not committed yet
    new = [p for p in _readable_by_others(store_dir) if "customers/be" in p]
    assert new == []
    assert stat.S_IMODE(store_dir.stat().st_mode) == 0o700  # the folder shuts everything below it
    _use(crm)
    journal = next((store_dir / "customers" / "ac").glob("*/journal/*.yaml"))
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.parent.stat().st_mode) == 0o700


def test_private_setting_must_be_true_or_false(crm: Crm, store_dir: Path) -> None:
    config = store_dir / "crm.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "private: 'yes'\n", encoding="utf-8")
    p = crm("customer", "list")
    line = len(config.read_text(encoding="utf-8").splitlines())
    assert (p.returncode, p.stderr) == (4, f"crm: error: {store_dir / 'crm.yaml'}:{line}: private must be true or "
                                           "false (true: the store's files are readable by their owner only)\n")


# -- point: sensitive fields (age encryption, access control) --

SECRET_ID = "ID-SECRET-4711"
SECRET_IBAN = "DE89370400440532013000"


@pytest.fixture
def keyed(crm, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A store with sensitive_fields, one recipient, and CRM_IDENTITY pointing at its key (outside the store)."""
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    identity = tmp_path / "keys" / "alice.txt"
    monkeypatch.setenv("CRM_IDENTITY", str(identity))
    r = crm("key", "gen")
    assert r.returncode == 0, r.stderr
    public = r.stdout.strip()
    assert public.startswith("age1")
    with open(store_dir / "crm.yaml", "a", encoding="utf-8") as fh:
        fh.write("sensitive_fields: [id_number, extra.iban]\n")
    git(store_dir, "commit", "-qam", "Mark sensitive fields")
    r = crm("key", "add", public)
    assert r.returncode == 0, r.stderr
    assert crm("customer", "add", "Acme Corp").returncode == 0
    r = crm("customer", "edit", "acme", "--set", f"id_number={SECRET_ID}", "--set", f"extra.iban={SECRET_IBAN}",
            "--set", "extra.note=plain")
    assert r.returncode == 0, r.stderr
    return {"identity": identity, "public": public}


def _no_key() -> dict:
    return {"CRM_IDENTITY": ""}


def _history(store_dir: Path) -> str:
    return git(store_dir, "log", "-p", "--all", "--format=%H %s%n%b")


def test_sensitive_values_never_enter_a_file_or_git_history(crm, store_dir, keyed) -> None:
    history = _history(store_dir)
    assert "id_number:" in history and "BEGIN AGE ENCRYPTED FILE" in history  # the field was written ...
    assert SECRET_ID not in history and SECRET_IBAN not in history  # ... but only encrypted
    assert "plain" in history  # an ordinary free field stays plain text
    text = next(store_dir.glob("customers/*/*/customer.yaml")).read_text(encoding="utf-8")
    assert SECRET_ID not in text and "  age: |\n    -----BEGIN AGE ENCRYPTED FILE-----" in text
    assert commits(store_dir)[0].endswith("id_number: set to (encrypted); "
                                          "extra: set to {iban: (encrypted), note: plain}")
    # the file stays safe YAML and the customer still validates
    assert crm("check").returncode == 0


def test_edit_output_does_not_echo_the_secret(crm, store_dir, keyed) -> None:
    r = crm("customer", "edit", "acme", "--set", "id_number=ID-OTHER-99")
    assert r.returncode == 0, r.stderr
    assert "ID-OTHER-99" not in r.stdout + r.stderr
    assert "id_number: •••• -> (encrypted)" in r.stdout
    assert "ID-OTHER-99" not in _history(store_dir)


def test_show_with_key_decrypts_without_key_masks(crm, keyed) -> None:
    r = crm("customer", "show", "acme")
    assert r.returncode == 0, r.stderr
    assert SECRET_ID in r.stdout and f"iban={SECRET_IBAN}" in r.stdout
    r = crm("customer", "show", "acme", "--format", "yaml", env=_no_key())
    assert r.returncode == 0, r.stderr
    assert SECRET_ID not in r.stdout and SECRET_IBAN not in r.stdout
    assert "id_number: ••••" in r.stdout and "iban: ••••" in r.stdout and "note: plain" in r.stdout


def test_export_leaves_sensitive_out_unless_asked_and_key_present(crm, store_dir, keyed, tmp_path) -> None:
    out = tmp_path / "plain.csv"
    assert crm("export", "--kind", "customers", "-o", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert SECRET_ID not in text and SECRET_IBAN not in text and "AGE" not in text
    assert "extra.iban" not in text and "id_number" not in text and "extra.note" in text

    out = tmp_path / "full.csv"
    r = crm("export", "--kind", "customers", "-o", str(out), "--include-sensitive")
    assert r.returncode == 0, r.stderr
    row = next(csv.DictReader(out.open(encoding="utf-8")))
    assert row["id_number"] == SECRET_ID and row["extra.iban"] == SECRET_IBAN

    out = tmp_path / "nokey.csv"
    r = crm("export", "--kind", "customers", "-o", str(out), "--include-sensitive", env=_no_key())
    assert r.returncode == 2
    assert r.stderr.startswith("crm: error: --include-sensitive needs your age identity")
    assert not out.exists()


def test_key_add_reencrypts_in_one_commit_and_new_key_reads(crm, store_dir, keyed, tmp_path) -> None:
    bob = tmp_path / "keys" / "bob.txt"
    r = crm("key", "gen", str(bob))
    bob_public = r.stdout.strip()
    # before: Bob cannot read
    r = crm("customer", "show", "acme", env={"CRM_IDENTITY": str(bob)})
    assert SECRET_ID not in r.stdout and "••••" in r.stdout
    before = git(store_dir, "rev-parse", "HEAD").strip()
    r = crm("key", "add", bob_public)
    assert r.returncode == 0, r.stderr
    assert f"Added recipient {bob_public}; re-encrypted 1 customers" in r.stderr
    assert git(store_dir, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    changed = git(store_dir, "show", "--name-only", "--format=", "HEAD").split()
    assert changed[0] == "crm.yaml" and len(changed) == 2 and changed[1].endswith("/customer.yaml")
    assert crm("key", "list").stdout.split() == [keyed["public"], bob_public]
    r = crm("customer", "show", "acme", env={"CRM_IDENTITY": str(bob)})
    assert SECRET_ID in r.stdout and SECRET_IBAN in r.stdout
    assert SECRET_ID not in _history(store_dir)

    # removing Alice: Bob still reads, Alice's key no longer opens the current files
    r = crm("key", "rm", keyed["public"], env={"CRM_IDENTITY": str(bob)})
    assert r.returncode == 0, r.stderr
    assert SECRET_ID in crm("customer", "show", "acme", env={"CRM_IDENTITY": str(bob)}).stdout
    assert SECRET_ID not in crm("customer", "show", "acme").stdout
    assert SECRET_ID not in _history(store_dir)


def test_key_add_without_identity_is_refused_and_changes_nothing(crm, store_dir, keyed, tmp_path) -> None:
    from tests.conftest import snapshot

    bob = tmp_path / "keys" / "bob.txt"
    bob_public = crm("key", "gen", str(bob)).stdout.strip()
    before = snapshot(store_dir)
    r = crm("key", "add", bob_public, env={"CRM_IDENTITY": str(bob)})  # Bob cannot read the current values
    assert r.returncode == 4
    assert r.stderr.startswith("crm: error: cannot decrypt acme-")
    assert snapshot(store_dir) == before


def test_sensitive_value_without_recipients_is_refused(crm, store_dir) -> None:
    with open(store_dir / "crm.yaml", "a", encoding="utf-8") as fh:
        fh.write("sensitive_fields: [id_number]\n")
    git(store_dir, "commit", "-qam", "Mark sensitive fields")
    assert crm("customer", "add", "Acme Corp").returncode == 0
    r = crm("customer", "edit", "acme", "--set", f"id_number={SECRET_ID}")
    assert r.returncode == 4
    assert r.stderr == ("crm: error: id_number is a sensitive field but crm.yaml lists no recipients; "
                        "add your public key with crm key add age1... (crm key gen makes one)\n")
    assert SECRET_ID not in _history(store_dir)
    assert git(store_dir, "status", "--porcelain") == ""


def test_identity_inside_the_store_is_refused(crm, store_dir, keyed) -> None:
    r = crm("key", "gen", str(store_dir / "id.txt"))
    assert r.returncode == 5
    assert "is inside the records store; a private key must never be committed" in r.stderr
    assert not (store_dir / "id.txt").exists()
    # a key file inside the store (one could be committed by a teammate, or arrive with a clone) is not used
    inside = store_dir / "customers" / "id.txt"
    inside.write_bytes(keyed["identity"].read_bytes())
    r = crm("customer", "show", "acme", env={"CRM_IDENTITY": str(inside)})
    assert r.returncode == 5
    assert r.stderr.startswith(f"crm: error: identity file {inside} is inside the records store")
    assert SECRET_ID not in r.stdout


def test_bad_recipient_is_refused(crm, store_dir) -> None:
    r = crm("key", "add", "age1notakey")
    assert r.returncode == 2
    assert r.stderr == ("crm: error: recipient 'age1notakey' is not an age public key (age1...); "
                        "make one with crm key gen\n")
    with open(store_dir / "crm.yaml", "a", encoding="utf-8") as fh:
        fh.write("recipients: [not-a-key]\n")
    r = crm("customer", "list")
    assert r.returncode == 4
    assert "recipient 'not-a-key' is not an age public key (age1...)" in r.stderr


def test_search_does_not_match_or_show_ciphertext(crm, keyed) -> None:
    r = crm("search", "AGE ENCRYPTED")
    assert "BEGIN AGE" not in r.stdout
    assert "extra.iban" not in r.stdout and "id_number" not in r.stdout


def test_import_encrypts_sensitive_columns(crm, store_dir, keyed, tmp_path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("name,iban\nBeta Ltd,GB33BUKB20201555555555\n", encoding="utf-8")
    r = crm("import", str(src), "--map", "iban=extra.iban")
    assert r.returncode == 0, r.stderr
    assert "GB33BUKB20201555555555" not in _history(store_dir)
    assert "iban=GB33BUKB20201555555555" in crm("customer", "show", "beta").stdout
    assert "iban=••••" in crm("customer", "show", "beta", env=_no_key()).stdout


def test_removing_the_last_recipient_is_refused(crm, store_dir, keyed) -> None:
    head = git(store_dir, "rev-parse", "HEAD")
    r = crm("key", "rm", keyed["public"])
    assert r.returncode == 2
    assert r.stderr == ("crm: error: that would leave no recipient for the encrypted fields; "
                        "add another key first\n")
    assert git(store_dir, "rev-parse", "HEAD") == head
    assert crm("key", "list").stdout.split() == [keyed["public"]]


# -- point 1: recovery never trusts the repository --------------------------------------------------------------


def _add(crm: Crm, name: str) -> str:
    r = crm("customer", "add", name, "--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["id"] if r.stdout.strip().startswith("{") else _cid(crm, name)


def _cid(crm: Crm, name: str) -> str:
    r = crm("customer", "list", "--format", "json")
    assert r.returncode == 0, r.stderr
    return next(c["id"] for c in json.loads(r.stdout) if c["name"] == name)


def _evil_manifest(folder: Path, victim: Path, planted: Path) -> None:
    """A transaction journal that deletes ``victim`` and writes ``planted``, both outside the store."""
    txn = folder / "txn"
    txn.mkdir(parents=True)
    (txn / "1").write_text("owned\n", encoding="utf-8")
    lines = [{"base": None}, {"path": str(victim), "backup": ""}, {"path": str(planted), "backup": "1"},
             {"path": "../outside.txt", "backup": "1"}]
    (txn / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")


def test_a_tracked_crm_folder_from_a_clone_is_refused_and_never_replayed(store_dir: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    planted = tmp_path / "planted.txt"
    _evil_manifest(store_dir / ".crm", victim, planted)
    run_git(store_dir, "add", "-f", ".crm")
    run_git(store_dir, "commit", "-q", "-m", "Innocent change")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(store_dir), str(clone)], check=True)
    crm = Crm(clone)

    for args in (("customer", "list"), ("customer", "add", "Beta")):
        r = crm(*args)
        assert r.returncode == 5, r.stderr
        assert r.stderr == ("crm: error: .crm/ is tracked by git (it came with a commit); crm keeps its local "
                            "state out of git: untrack it with: git rm -r --cached .crm && git commit -m "
                            "'Untrack .crm', then retry\n")
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not planted.exists() and not (tmp_path / "outside.txt").exists()

    r = crm("check")
    assert r.returncode == 1, r.stderr
    assert ".crm: tracked by git" in r.stdout
    assert victim.exists() and not planted.exists()

    run_git(clone, "rm", "-r", "-q", "--cached", ".crm")
    run_git(clone, "commit", "-q", "-m", "Untrack .crm")
    r = crm("customer", "add", "Beta")
    assert r.returncode == 0, r.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"  # the untracked .crm is never read either
    assert not planted.exists() and not (tmp_path / "outside.txt").exists()
    assert crm("check").returncode == 0


def test_a_symlinked_crm_folder_is_refused(store_dir: Path, crm: Crm, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, store_dir / ".crm")
    r = crm("customer", "add", "Acme Corp")
    assert r.returncode == 5
    assert r.stderr == "crm: error: .crm is a symlink (crm never follows it); remove it (rm .crm) and retry\n"
    assert os.listdir(elsewhere) == []
    r = crm("check")
    assert r.returncode == 1
    assert ".crm: is a symlink" in r.stdout


def test_the_transaction_journal_lives_in_the_git_dir(store_dir: Path, crm: Crm) -> None:
    r = crm("customer", "add", "Acme Corp")
    assert r.returncode == 0, r.stderr
    assert (store_dir / ".git" / "crm" / "lock").exists()
    assert not (store_dir / ".crm").exists()
    assert run_git(store_dir, "status", "--porcelain", "--ignored") == ""


def test_recovery_accepts_only_store_paths_without_symlinks(store_dir: Path, crm: Crm, tmp_path: Path) -> None:
    cid = _add(crm, "Acme Corp")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    planted = tmp_path / "planted.txt"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "customer.yaml").write_text("precious too\n", encoding="utf-8")
    os.symlink(outside, store_dir / "customers" / "zz")  # a folder on the way that is a symlink
    run_git(store_dir, "add", "customers/zz")
    run_git(store_dir, "commit", "-q", "-m", "Link")
    before = snapshot(store_dir)
    state = store_dir / ".git" / "crm"
    _evil_manifest(state, victim, planted)
    with open(state / "txn" / "manifest.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"path": "customers/zz/customer.yaml", "backup": ""}) + "\n")
        fh.write(json.dumps({"path": ".git/config", "backup": "1"}) + "\n")
    r = crm("customer", "show", cid)
    assert r.returncode == 0, r.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert (outside / "customer.yaml").read_text(encoding="utf-8") == "precious too\n"
    assert not planted.exists() and not (tmp_path / "outside.txt").exists()
    assert "owned" not in (store_dir / ".git" / "config").read_text(encoding="utf-8")
    assert not (state / "txn").exists()
    assert snapshot(store_dir) == before


# -- point 2: no symlinks, no special files -------------------------------------------------------------------------


@pytest.fixture
def two(store_dir: Path, crm: Crm) -> tuple[str, str]:
    return _add(crm, "Acme Corp"), _add(crm, "Beta Ltd")


def _customer_file(root: Path, cid: str) -> Path:
    return root / "customers" / cid[:2] / cid / "customer.yaml"


def _commit_all(root: Path, message: str) -> None:
    run_git(root, "add", "-A", "customers")
    run_git(root, "commit", "-q", "-m", message)


def test_a_symlinked_customer_file_is_never_read_or_written(store_dir: Path, crm: Crm, two: tuple[str, str],
                                                             tmp_path: Path) -> None:
    a, b = two
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: TOP SECRET\n", encoding="utf-8")
    path = _customer_file(store_dir, b)
    path.unlink()
    os.symlink(secret, path)
    _commit_all(store_dir, "Link")  # as if it came with a pull
    rel = f"customers/{b[:2]}/{b}/customer.yaml"

    r = crm("customer", "show", b)
    assert r.returncode == 4
    assert r.stderr.startswith(f"crm: error: {rel}: is a symlink, not a regular file; crm never reads or writes "
                               "through it")
    for args in (("customer", "list", "--format", "csv"), ("export", "--format", "json", "-o", "-"),
                 ("report", "customers", "--format", "csv")):
        r = crm(*args)
        assert r.returncode != 70 and "Traceback" not in r.stderr, (args, r.stderr)
        assert "TOP SECRET" not in r.stdout, args
    r = crm("customer", "list", "--format", "csv", "--skip-invalid")
    assert "Acme Corp" in r.stdout

    head = commits(store_dir)
    r = crm("customer", "edit", b, "--set", "tier=A")
    assert r.returncode == 4
    assert secret.read_text(encoding="utf-8") == "name: TOP SECRET\n"
    assert commits(store_dir) == head

    r = crm("check")
    assert r.returncode == 1
    assert f"{rel}: is a symlink, not a regular file" in r.stdout


def test_a_journal_that_is_a_symlink_fifo_or_folder_is_refused(store_dir: Path, crm: Crm, two: tuple[str, str],
                                                                tmp_path: Path) -> None:
    a, b = two
    target = tmp_path / "notes.yaml"
    target.write_text("[]\n", encoding="utf-8")
    journal = store_dir / "customers" / a[:2] / a / "journal"
    journal.mkdir()
    os.symlink(target, journal / "2026.yaml")
    os.mkfifo(journal / "2025.yaml")
    (journal / "2024.yaml").mkdir()
    head = commits(store_dir)

    r = crm("log", a, "call", "Quick chat", "--at", "2026-03-02 10:00")
    assert r.returncode == 4, r.stderr
    assert f"customers/{a[:2]}/{a}/journal/20" in r.stderr and "not a regular file" in r.stderr
    assert target.read_text(encoding="utf-8") == "[]\n"
    assert commits(store_dir) == head

    r = crm("timeline", a)  # would hang on the FIFO if crm opened it
    assert r.returncode == 4, r.stderr
    r = crm("customer", "list", "--format", "csv", "--skip-invalid")
    assert r.returncode != 70 and "Beta Ltd" in r.stdout
    r = crm("check")
    assert r.returncode == 1
    rel = f"customers/{a[:2]}/{a}/journal"
    assert f"{rel}/2026.yaml: is a symlink, not a regular file" in r.stdout
    assert f"{rel}/2025.yaml: is a FIFO, not a regular file" in r.stdout
    assert f"{rel}/2024.yaml: is a folder, not a regular file" in r.stdout


def test_a_customer_file_that_is_a_folder_is_skipped_not_a_crash(store_dir: Path, crm: Crm,
                                                                 two: tuple[str, str]) -> None:
    a, b = two
    path = _customer_file(store_dir, b)
    path.unlink()
    path.mkdir()
    (path / "x").write_text("x", encoding="utf-8")
    r = crm("customer", "list", "--format", "csv", "--skip-invalid")
    assert r.returncode != 70 and "Traceback" not in r.stderr, r.stderr
    assert "Acme Corp" in r.stdout
    r = crm("customer", "show", b)
    assert r.returncode == 4
    assert "customer.yaml: is a folder, not a regular file" in r.stderr
    r = crm("check")
    assert r.returncode == 1
    assert f"customers/{b[:2]}/{b}/customer.yaml: is a folder, not a regular file" in r.stdout


def test_diff_never_reads_through_a_symlinked_journal(store_dir: Path, crm: Crm, two: tuple[str, str],
                                                      tmp_path: Path) -> None:
    a, _ = two
    secret = tmp_path / "secret.yaml"
    secret.write_text("- at: 2026-01-05T10:00:00+08:00\n  kind: note\n  summary: TOP SECRET\n", encoding="utf-8")
    journal = store_dir / "customers" / a[:2] / a / "journal"
    journal.mkdir()
    os.symlink(secret, journal / "2026.yaml")
    r = crm("diff", "--since", "7d")
    assert r.returncode != 70 and "Traceback" not in r.stderr, r.stderr
    assert "TOP SECRET" not in r.stdout + r.stderr
    assert "logged" not in r.stdout  # the events of the file it points to are never counted
