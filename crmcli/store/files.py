"""Writing files safely: atomically (temp file + rename) and, in a private store, owner-only."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path


def make_private() -> None:
    """Owner-only permissions for every file and folder this process (and the git it runs) creates.

    git follows the umask as long as ``core.sharedRepository`` is left at its default.
    """
    os.umask(0o077)


def restrict(folder: Path) -> None:
    """The store folder itself owner-only: nothing below it can be reached by others."""
    mode = folder.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(folder, mode & 0o700)


def atomic_write(path: Path, data: bytes, *, sync: bool) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()  # a failed write leaves nothing behind
        raise

