"""A derived cache of customer profiles, for listing large stores fast.

The YAML is the truth; this cache only saves re-parsing files that did not
change. Each entry remembers the file's size and modification time (as git's
own index does) and is re-read when either differs, so a hand edit, a
``git pull`` or a checkout is picked up on the next command. The cache lives
in ``.git/crm/cache/`` (never in git) and can be deleted at any time.
"""
from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
import time
from pathlib import Path

from crmcli import yamlio
from crmcli.domain.customer import Customer
from crmcli.errors import CrmError
from crmcli.store.files import atomic_write
from crmcli.store.paths import CUSTOMERS
from crmcli.store.store import Store

_VERSION = (1, sys.version_info[:2])
# A file changed this recently may change again within the same mtime tick at
# the same size (git's "racily clean" case): such entries are never trusted.
_RACY_NS = 2_000_000_000


def _cache_path(store: Store) -> Path:
    return store.state_dir / "cache" / "customers.marshal"


def _load(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            version, entries = marshal.loads(fh.read())
        if tuple(version[:1]) == _VERSION[:1] and tuple(version[1]) == _VERSION[1]:
            return entries
    except (OSError, EOFError, ValueError, TypeError):
        pass
    return {}


def _save(path: Path, entries: dict) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, marshal.dumps((_VERSION, entries)), sync=False)


def customer_index(store: Store, *, problems: list | None = None) -> list[Customer]:
    """Every readable customer, from the cache where files are unchanged.

    Unreadable files are skipped (``crm check`` reports them); their errors
    are appended to ``problems`` when given.
    """
    cache_file = _cache_path(store)
    old = _load(cache_file)
    new: dict = {}
    customers: list[Customer] = []
    base = str(store.root / CUSTOMERS)
    join = os.path.join
    changed = False
    racy_after = time.time_ns() - _RACY_NS
    for cid in store.customer_ids():
        path = join(base, cid[:2], cid, "customer.yaml") if len(cid) >= 2 else str(store.customer_file(cid))
        try:
            st = os.lstat(path)  # a symlink or special file is never a record (read_text refuses it)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            if problems is not None:
                try:
                    store.read_text(Path(path))  # raises the one-line message naming the path
                except CrmError as exc:
                    problems.append(str(exc))
                except OSError as exc:
                    problems.append(f"{store.rel(Path(path))}: {exc.strerror}")
            continue
        stamp = (st.st_mtime_ns, st.st_size)
        hit = old.get(cid)
        if hit is not None and hit[0] == stamp[0] and hit[1] == stamp[1]:
            data = hit[2]
        else:
            changed = True
            try:
                data = yamlio.loads(store.read_text(Path(path)), store.rel(Path(path)))
            except CrmError as exc:
                if problems is not None:
                    problems.append(str(exc))
                continue
            except OSError as exc:  # a folder or special file where the profile belongs
                if problems is not None:
                    problems.append(f"{store.rel(Path(path))}: cannot be read ({exc.strerror or exc})")
                continue
            if not isinstance(data, dict):
                if problems is not None:
                    problems.append(f"{store.rel(Path(path))}: not a customer profile (a mapping of fields was "
                                    f"expected, found {type(data).__name__})")
                continue
        new[cid] = (stamp[0] if stamp[0] < racy_after else -1, stamp[1], data)
        customers.append(Customer(cid, data, path))
    if changed or len(new) != len(old):
        _save(cache_file, new)
    return customers
