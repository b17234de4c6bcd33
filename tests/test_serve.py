"""`crm serve` as a real process on 127.0.0.1, asked by a real HTTP client: pages, refusals, token, live updates."""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import git
from tests.websample import ENV, crm, make_sample

TOKEN = "s3cret-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(root: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ) | ENV
    env.pop("CRM_NOW")  # the server follows the clock, as it would in use
    return subprocess.Popen([sys.executable, "-m", "crmcli", "--records", str(root), "serve", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def get(port: int, path: str, headers: dict | None = None, method: str = "GET") -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, headers=headers or {})  # the path goes out exactly as written
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def wait_up(port: int, proc: subprocess.Popen, headers: dict | None = None) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            get(port, "/", headers)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("crm serve did not answer within 120 s")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int, subprocess.Popen]]:
    root = make_sample(tmp_path)
    port = free_port()
    proc = start(root, "--port", str(port), "--token", TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        wait_up(port, proc, auth)
        yield root, port, proc
    finally:
        stop(proc)


def test_pages_refusals_token_and_live_updates(served: tuple[Path, int, subprocess.Popen]) -> None:
    root, port, _ = served
    auth = {"Authorization": f"Bearer {TOKEN}"}
    head = git(root, "rev-parse", "HEAD")

    status, headers, body = get(port, "/", auth)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert b"Headline numbers" in body and b'name="viewport"' in body
    cid = next(p.name for p in sorted((root / "customers").glob("*/*")) if (p / "customer.yaml").is_file())
    status, _, page = get(port, f"/customers/{cid}.html", auth)
    assert status == 200 and f"crm show {cid}".encode() in page
    assert get(port, "/customers/", auth)[0] == 200  # a folder serves its index.html

    # nothing outside the site, whatever the spelling; no dot files; no listing of a folder without index
    for path in ("/../crm.yaml", "/../../etc/passwd", "/%2e%2e/%2e%2e/crm.yaml", "/customers/..%2f..%2fcrm.yaml",
                 "/..%5c..%5ccrm.yaml", "/.crm-site.json", "/reports", "/nope.html", "//etc/passwd"):
        status, _, body = get(port, path, auth)
        assert status in (403, 404), (path, status)
        assert b"format:" not in body and b"root:" not in body
    assert get(port, "/", auth, method="POST")[0] == 405
    assert get(port, "/", auth | {"Host": "evil.example:80"})[0] == 403  # DNS rebinding on loopback
    assert get(port, "/", auth | {"Host": f"localhost:{port}"})[0] == 200

    # the token: refused without it or with a wrong one; ?token= once sets a cookie that then suffices
    assert get(port, "/")[0] == 401
    assert get(port, "/", {"Authorization": "Bearer wrong"})[0] == 401
    assert get(port, "/?token=wrong")[0] == 401
    status, headers, _ = get(port, f"/?token={TOKEN}")
    assert status == 200 and "crm_token=" in headers["set-cookie"]
    cookie = headers["set-cookie"].split(";")[0]
    assert get(port, "/pipeline.html", {"Cookie": cookie})[0] == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/tickets.html", timeout=20)
    assert refused.value.code == 401
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/tickets.html?token={TOKEN}", timeout=20) as resp:
        assert resp.status == 200 and b"crm ticket list --open" in resp.read()

    # read-only: serving changed nothing in the records or in git
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""

    # the store changes underneath (a real crm command): the page follows
    crm(root, "log", cid, "call", "served page follows the store", env={"CRM_NOW": ""})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if b"served page follows the store" in get(port, f"/customers/{cid}.html", auth)[2]:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the customer's page did not show the new call within 90 s")


def test_another_address_warns(tmp_path: Path) -> None:
    root = make_sample(tmp_path)
    port = free_port()
    proc = start(root, "--host", "0.0.0.0", "--port", str(port))
    try:
        wait_up(port, proc)
    finally:
        err = stop(proc)
    assert "warning: serving on 0.0.0.0" in err and "--token" in err
    quiet = start(root, "--port", str(port))
    try:
        wait_up(port, quiet)
    finally:
        err = stop(quiet)
    assert "warning" not in err and f"http://127.0.0.1:{port}/" in err
