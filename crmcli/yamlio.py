"""The YAML dialect of the records: safe, stable, diff-friendly.

* Loading uses the safe loader (the C one when PyYAML has it) with one change:
  timestamps stay strings, so a date is the text the user wrote and round-trips
  byte for byte. Aliases are refused: the format never writes them and a
  hand-made alias bomb would otherwise blow up whatever walks the data.
* Dumping is block style, keys in the order given (callers order them), wide
  lines, Unicode as is, multi-line text as ``|`` blocks.
* Locating a key's line is done lazily (only for error messages) by composing
  the node tree, so ordinary loads pay nothing for it.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from crmcli.errors import InvalidRecord, quote

# a line git leaves in a file it could not merge
CONFLICT_RE = re.compile(r"^(<{7}|={7}|>{7})(\s|$)", re.MULTILINE)

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _without_timestamps(resolvers: dict) -> dict:
    return {
        first: [(tag, rx) for tag, rx in entries if tag != "tag:yaml.org,2002:timestamp"]
        for first, entries in resolvers.items()
    }


class RecordLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that keeps dates and times as the strings written and refuses duplicate keys.

    With a duplicate key the last one would silently win and the next edit would drop the other.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode) and len(node.value) > 1:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # unhashable: the base constructor reports it
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {quote(key)} (first on line {first}); keep one",
                        key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


RecordLoader.yaml_implicit_resolvers = _without_timestamps(_BaseLoader.yaml_implicit_resolvers)


class _NodeLoader(yaml.SafeLoader):
    """Pure-Python composer used only to find line numbers."""


_NodeLoader.yaml_implicit_resolvers = _without_timestamps(yaml.SafeLoader.yaml_implicit_resolvers)


class RecordDumper(_BaseDumper):  # type: ignore[misc,valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True


RecordDumper.yaml_implicit_resolvers = _without_timestamps(_BaseDumper.yaml_implicit_resolvers)


def _represent_str(dumper: yaml.BaseDumper, data: str) -> yaml.Node:
    if "\n" in data and not _TRAILING_SPACE.search(data):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_TRAILING_SPACE = re.compile(r"[ \t]\n|[ \t]$|^\s|\r")
RecordDumper.add_representer(str, _represent_str)


class _PyRecordDumper(yaml.SafeDumper):
    """Pure-Python twin of RecordDumper: libyaml escapes every character beyond U+FFFF
    (emoji, rare CJK such as 𠮷), which this one writes as is."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str_py(dumper: yaml.BaseDumper, data: str) -> yaml.Node:
    if _NEL_LS_PS.search(data):  # line breaks to YAML that the pure-Python emitter would write raw
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return _represent_str(dumper, data)


_NEL_LS_PS = re.compile("[\x85\u2028\u2029]")
_PyRecordDumper.yaml_implicit_resolvers = _without_timestamps(yaml.SafeDumper.yaml_implicit_resolvers)
_PyRecordDumper.add_representer(str, _represent_str_py)  # type: ignore[arg-type]


class YamlSyntaxError(InvalidRecord):
    def __init__(self, path: str, line: int | None, message: str):
        self.path, self.line = path, line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


def loads(text: str, path: str = "<string>") -> Any:
    """Parse one document; raise ``YamlSyntaxError`` with ``path:line``."""
    if "*" in text:
        _refuse_aliases(text, path)
    try:
        return yaml.load(text, Loader=RecordLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or "unreadable YAML"
        raise YamlSyntaxError(path, line, f"unreadable YAML: {what}; fix the file or restore it with git") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(path, None, f"unreadable YAML: {exc}") from None


def _refuse_aliases(text: str, path: str) -> None:
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else None
                raise YamlSyntaxError(path, line,
                                      "YAML aliases (*name) are not allowed in records; write the value out")
    except yaml.MarkedYAMLError:
        return  # the real load reports the syntax error with its position


def dumps(data: Any) -> str:
    options: dict[str, Any] = dict(allow_unicode=True, sort_keys=False, default_flow_style=False, width=100, indent=2)
    text = yaml.dump(data, Dumper=RecordDumper, **options)
    if "\\U" in text:  # libyaml escaped a character beyond U+FFFF: write Unicode as is
        text = yaml.dump(data, Dumper=_PyRecordDumper, **options)
    return text


def dump_entry(entry: dict) -> str:
    """One journal entry as a single ``- {key: value, ...}`` line, ready to append.

    One line per event is what makes ``merge=union`` safe: git merges line by
    line, and when two clones append multi-line entries at once it interleaves
    their lines wherever they share a few (``kind: call``, ``by: ...``),
    breaking both events. Whole-line events can only end up side by side.

    The common entry (short keys; text, whole numbers, true/false, null) is written here exactly as PyYAML
    writes it, many times quicker; anything else goes through PyYAML.
    """
    parts = []
    for key, value in entry.items():
        k = _flow_scalar(key) if type(key) is str and len(key) <= 100 else None
        v = _flow_scalar(value)
        if k is None or v is None:
            return "- " + yaml.dump(entry, Dumper=_EntryDumper, allow_unicode=True, sort_keys=False,
                                    default_flow_style=True, width=1 << 30)
        parts.append(f"{k}: {v}")
    return "- {" + ", ".join(parts) + "}\n"


# Text PyYAML writes plain in a flow mapping: it starts with a letter (so only the words below resolve to
# anything but text) and has none of the characters that need quotes; text of printable ASCII with a flow
# indicator (so never plain) it writes in single quotes. Other text is left to PyYAML.
_LETTERS = "A-Za-z_\u00c0-\u024f\u4e00-\u9fff"
_FLOW_PLAIN = re.compile(f"[{_LETTERS}](?:[{_LETTERS}0-9 .@/+=()&%!*|>'\"$;-]*[{_LETTERS}0-9.@/+=()&%!*|>'\"$;-])?")
_NOT_TEXT = frozenset("yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF null Null NULL"
                      .split())
_QUOTED = re.compile(r"[ -~]*[,\[\]{}:?][ -~]*")


def _flow_scalar(value: Any) -> str | None:
    kind = type(value)
    if kind is str:
        if _FLOW_PLAIN.fullmatch(value) and value not in _NOT_TEXT:
            return value
        if _QUOTED.fullmatch(value):
            return "'" + value.replace("'", "''") + "'"
        return None
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    return "null" if value is None else None


class _EntryDumper(RecordDumper):
    """Flow style on one line: a line break inside a string is written as an escape, never folded."""


_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")
_EntryDumper.add_representer(str, lambda dumper, data: dumper.represent_scalar(
    "tag:yaml.org,2002:str", data, style='"' if _BREAKS.search(data) else None))


def key_line(text: str, keys: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the value at ``keys`` (mapping keys / list indexes).

    Falls back to the deepest node found; ``None`` when the text is unreadable.
    """
    try:
        node = yaml.compose(text, Loader=_NodeLoader)
    except yaml.YAMLError:
        return None
    best = node.start_mark.line + 1 if node is not None else None
    for key in keys:
        if node is None:
            break
        found = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key or (isinstance(key, (int, bool)) and k.value == str(key)):
                    found, best = v, k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            found = node.value[key]
            best = found.start_mark.line + 1
        node = found
    return best


# -- hand edits stay the user's: a change applied to the text as written ----------------------------------------

def update_text(original: str, new: dict, order: list[str] | tuple[str, ...] = ()) -> str | None:
    """``original`` (a mapping document as a person left it) changed to hold ``new``: comments, key order, quoting
    and blank lines kept, only what differs rewritten (ruamel.yaml's round-trip mode; imported only here).

    A key ``new`` adds goes after the nearest key before it in ``order`` (else at the end). Returns None when
    the result would not read back as exactly ``new``, so the caller writes the canonical form instead."""
    try:
        old = loads(original)
    except InvalidRecord:
        return None
    if not isinstance(old, dict):
        return None
    from io import StringIO

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=2, offset=0)
    rt.allow_unicode = True
    try:
        doc = rt.load(original)
        _merge(doc, old, new, list(order))
        out = StringIO()
        rt.dump(doc, out)
    except (YAMLError, TypeError, ValueError, KeyError, IndexError):
        return None
    text = out.getvalue()
    try:
        return text if loads(text) == new else None
    except InvalidRecord:
        return None


def _plain(value: Any) -> Any:
    """A new value as ruamel should write it: multi-line text as a ``|`` block, as ``dumps`` does."""
    from ruamel.yaml.scalarstring import LiteralScalarString

    if isinstance(value, str) and "\n" in value and not _TRAILING_SPACE.search(value):
        return LiteralScalarString(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _merge(doc: Any, old: Any, new: Any, order: list[str]) -> None:
    """Make the round-trip node ``doc`` (read as ``old``) hold ``new``, touching only what differs."""
    for key in [k for k in old if k not in new]:
        del doc[key]
    for key, value in new.items():
        if key in old:
            if old[key] == value:
                continue
            if isinstance(value, dict) and isinstance(old[key], dict) and hasattr(doc[key], "insert"):
                _merge(doc[key], old[key], value, [])
            elif (isinstance(value, list) and isinstance(old[key], list) and len(value) == len(old[key])
                  and all(isinstance(a, dict) and isinstance(b, dict) for a, b in zip(value, old[key], strict=True))):
                for i, (a, b) in enumerate(zip(old[key], value, strict=True)):
                    if a != b:
                        _merge(doc[key][i], a, b, [])
            else:
                doc[key] = _plain(value)
            continue
        doc.insert(_position(list(doc), key, order), key, _plain(value))


def _position(keys: list[Any], key: str, order: list[str]) -> int:
    if key not in order:
        return len(keys)
    before = order[:order.index(key)]
    places = [i for i, k in enumerate(keys) if k in before]
    return places[-1] + 1 if places else 0
