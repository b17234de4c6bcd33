"""The bundled sample (records/) in a fresh git repository, and the real `crm` run on it: for the web tests."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T10:00:00+08:00"
ENV = {"CRM_NOW": NOW, "CRM_TZ": "Asia/Shanghai", "CRM_AUTHOR": "Alice Example <alice@example.com>",
       "NO_COLOR": "1"}


def make_sample(where: Path) -> Path:
    """records/ copied into ``where/crm``, committed; every file dated an hour back (so none is "just changed")."""
    root = where / "crm"
    shutil.copytree(ROOT / "records", root)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Sample records"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    past = os.path.getmtime(root / "crm.yaml") - 3600
    for path in (root / "customers").rglob("*"):
        os.utime(path, (past, past))
    return root


def crm(root: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ) | ENV | (env or {})
    proc = subprocess.run([sys.executable, "-m", "crmcli", "--records", str(root), *args], capture_output=True,
                          text=True, env=full, timeout=300)
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def crm_json(root: Path, *args: str) -> Any:
    return json.loads(crm(root, *args).stdout)


class Page(HTMLParser):
    """What the tests read from a page: links, ``data-key``/``data-value`` pairs, text, tags, meta."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.data: dict[str, str] = {}
        self.stages: dict[str, dict[str, str]] = {}
        self.meta: dict[str, str] = {}
        self.tags: dict[str, int] = {}
        self.text: list[str] = []
        self.lang = ""
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "meta" and "name" in a:
            self.meta[a["name"]] = a.get("content", "")
        if "data-key" in a:
            self.data[a["data-key"]] = a.get("data-value", "")
        if "data-stage" in a:
            self.stages[a["data-stage"]] = a

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def read_page(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))
