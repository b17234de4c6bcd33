"""Sensitive fields: stored encrypted with age, shown only to holders of an identity key.

``crm.yaml`` names the fields (``sensitive_fields: [id_number, bank_account, extra.contract_terms]``)
and the age public keys that may read them (``recipients: [age1...]``). On every write of a
``customer.yaml`` such a field's plaintext is replaced by a sealed value, a one-key mapping with an
ASCII-armored age message, so neither the file nor git history ever holds the plaintext::

    id_number:
      age: |
        -----BEGIN AGE ENCRYPTED FILE-----
        ...

The identity (private key) lives outside the store: the file named by ``$CRM_IDENTITY``, else
``$XDG_CONFIG_HOME/crm/identity.txt`` (``~/.config/crm/identity.txt``). Without it sealed values
are shown masked. No Click here.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from crmcli.errors import InvalidRecord, StoreError, UsageError

MASK = "••••"
MARKER = "age"
ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
IDENTITY_ENV = "CRM_IDENTITY"


def is_sealed(value: Any) -> bool:
    """True for a stored ``{age: "-----BEGIN AGE ENCRYPTED FILE-----..."}`` value."""
    return (isinstance(value, dict) and list(value) == [MARKER] and isinstance(value[MARKER], str)
            and value[MARKER].lstrip().startswith(ARMOR_BEGIN))


def has_sealed(data: dict) -> bool:
    containers = [data] + ([data["extra"]] if isinstance(data.get("extra"), dict) else [])
    return any(is_sealed(v) for c in containers for v in c.values())


def sensitive_fields(config: Any) -> list[str]:
    return [str(f) for f in (config.get("sensitive_fields") or [])]


def recipients(config: Any) -> list[str]:
    return [str(r) for r in (config.get("recipients") or [])]


def _pyrage() -> Any:
    try:
        import pyrage
    except ImportError:  # pragma: no cover - install_requires has it
        raise StoreError("sensitive fields need the pyrage package; pip install pyrage") from None
    return pyrage


def parse_recipient(text: str) -> Any:
    try:
        return _pyrage().x25519.Recipient.from_str(text.strip())
    except Exception:  # noqa: BLE001 - pyrage raises its own error types
        raise UsageError(f"recipient {text!r} is not an age public key (age1...); "
                         "make one with crm key gen") from None


def validate_config(data: dict, fail: Any) -> None:
    """Checks for ``sensitive_fields`` and ``recipients`` in crm.yaml (``fail(key, message)`` raises)."""
    fields = data.get("sensitive_fields")
    if fields is not None:
        if not isinstance(fields, list) or not all(isinstance(f, str) and f.strip() for f in fields):
            fail("sensitive_fields", "sensitive_fields must be a list of field names (like id_number, extra.iban)")
        for f in fields:
            if f in ("name", "kind", "stage", "tier", "created", "contacts", "extra", "tags"):
                fail("sensitive_fields", f"{f!r} cannot be a sensitive field: crm needs to read it; "
                     "pick fields like id_number or extra.NAME")
    recips = data.get("recipients")
    if recips is not None:
        if not isinstance(recips, list) or not all(isinstance(r, str) for r in recips):
            fail("recipients", "recipients must be a list of age public keys (age1...)")
        for r in recips:
            try:
                parse_recipient(r)
            except UsageError:
                fail("recipients", f"recipient {r!r} is not an age public key (age1...)")


# -- finding the fields in a customer mapping --

def sensitive_slots(data: dict, fields: list[str]) -> list[tuple[dict, str, str]]:
    """(container, key, field name) for each sensitive field present in ``data``."""
    out = []
    for name in fields:
        if name.startswith("extra."):
            extra = data.get("extra")
            key = name[len("extra."):]
            if isinstance(extra, dict) and extra.get(key) not in (None, ""):
                out.append((extra, key, name))
        elif data.get(name) not in (None, ""):
            out.append((data, name, name))
    return out


def encrypt(text: str, keys: list[str]) -> dict:
    pyrage = _pyrage()
    armored = pyrage.encrypt(text.encode("utf-8"), [parse_recipient(k) for k in keys], armored=True)
    return {MARKER: armored.decode("ascii")}


def seal_customer(config: Any, data: dict, *, keys: list[str] | None = None) -> dict:
    """Copy of ``data`` with every plaintext sensitive value encrypted; sealed values are kept as they are."""
    fields = sensitive_fields(config)
    if not fields:
        return data
    out = copy.deepcopy(data)
    keys = recipients(config) if keys is None else keys
    for container, key, name in sensitive_slots(out, fields):
        value = container[key]
        if is_sealed(value):
            continue
        if not keys:
            raise InvalidRecord(f"{name} is a sensitive field but crm.yaml lists no recipients; "
                                "add your public key with crm key add age1... (crm key gen makes one)")
        if isinstance(value, (dict, list)):
            raise InvalidRecord(f"{name} is a sensitive field and must be text, not a {type(value).__name__}")
        container[key] = encrypt(str(value), keys)
    return out


# -- the identity (private key), outside the store --

def identity_path() -> Path:
    env = os.environ.get(IDENTITY_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "crm" / "identity.txt"


def _outside(path: Path, root: Path) -> None:
    resolved = path.expanduser().resolve()
    if resolved == root.resolve() or root.resolve() in resolved.parents:
        raise StoreError(f"identity file {path} is inside the records store; a private key must never be "
                         "committed: move it outside (like ~/.config/crm/identity.txt) and set CRM_IDENTITY")


def load_identities(root: Path) -> list[Any]:
    """The identities of ``identity_path()``, or [] when there is no such file."""
    path = identity_path()
    if not path.is_file():
        if os.environ.get(IDENTITY_ENV):
            raise StoreError(f"CRM_IDENTITY={path}: no such file; point it at your age identity file "
                             "(crm key gen makes one)")
        return []
    _outside(path, root)
    pyrage = _pyrage()
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("AGE-SECRET-KEY-"):
            try:
                out.append(pyrage.x25519.Identity.from_str(line))
            except Exception:  # noqa: BLE001
                raise StoreError(f"{path}: not an age identity file (AGE-SECRET-KEY-...)") from None
    if not out:
        raise StoreError(f"{path}: no AGE-SECRET-KEY line; point CRM_IDENTITY at your age identity file")
    return out


def decrypt(value: dict, identities: list[Any], name: str = "value") -> str:
    pyrage = _pyrage()
    try:
        return bytes(pyrage.decrypt(value[MARKER].encode("ascii"), identities)).decode("utf-8")
    except Exception:  # noqa: BLE001 - wrong key, damaged message
        raise InvalidRecord(f"cannot decrypt {name} with your identity ({identity_path()}); "
                            "ask a key holder to add your public key (crm key add)") from None


def reveal_customer(config: Any, data: dict, identities: list[Any]) -> dict:
    """Copy of ``data`` for display: sealed values decrypted when possible, else masked."""
    out = copy.deepcopy(data)
    containers = [out] + ([out["extra"]] if isinstance(out.get("extra"), dict) else [])
    for container in containers:
        for key, value in list(container.items()):
            if is_sealed(value):
                try:
                    container[key] = decrypt(value, identities, key) if identities else MASK
                except InvalidRecord:
                    container[key] = MASK
    return out


def mask_customer(config: Any, data: dict) -> dict:
    """Copy of ``data`` with sealed values as ``••••`` and sensitive plaintext as ``(encrypted)`` (for messages)."""
    out = reveal_customer(config, data, [])
    for container, key, _name in sensitive_slots(out, sensitive_fields(config)):
        if container[key] != MASK:
            container[key] = "(encrypted)"
    return out


def strip_sensitive(config: Any, data: dict) -> dict:
    """Copy of ``data`` without sensitive or sealed values (exports without --include-sensitive)."""
    out = copy.deepcopy(data)
    for container, key, _name in sensitive_slots(out, sensitive_fields(config)):
        del container[key]
    for container in [out] + ([out["extra"]] if isinstance(out.get("extra"), dict) else []):
        for key in [k for k, v in container.items() if is_sealed(v)]:
            del container[key]
    return out


def generate_identity(path: Path, root: Path | None) -> str:
    """Write a new identity file (mode 600) at ``path``; returns its public key."""
    if root is not None:
        _outside(path, root)
    if path.exists():
        raise UsageError(f"{path} already exists; choose another path or remove it first")
    identity = _pyrage().x25519.Identity.generate()
    public = str(identity.to_public())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"# public key: {public}\n{identity}\n")
    return public
