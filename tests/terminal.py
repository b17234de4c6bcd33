"""Running ``crm`` with one output stream on a pseudo-terminal, to see what a person at a terminal sees."""
from __future__ import annotations

import os
import subprocess
from typing import Any


def terminal_env(**extra: str) -> dict[str, str]:
    """The environment of a colour terminal: no COLUMNS, NO_COLOR or FORCE_COLOR from the test's own."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    return {**env, "TERM": "xterm", **extra}


def read_all(master: int) -> str:
    """Everything written to the terminal, once its other end is closed."""
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other end is closed and nothing is left
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8")


def on_a_terminal(args: list[str], *, stream: str = "stdout", cols: int | None = None,
                  **kwargs: Any) -> tuple[subprocess.CompletedProcess, str]:
    """Run ``args`` with ``stream`` (stdout or stderr) on a pseudo-terminal ``cols`` wide (the kernel's default
    size when None), stdin empty; the finished process and what the terminal showed."""
    master, slave = os.openpty()
    if cols is not None:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    kwargs.setdefault("stderr" if stream == "stdout" else "stdout",
                      subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL)
    kwargs.setdefault("timeout", 300)
    try:
        proc = subprocess.run(args, **{**kwargs, stream: slave})
        os.close(slave)
        slave = -1
        return proc, read_all(master)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
