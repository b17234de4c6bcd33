"""Names as Chinese users type them: pinyin syllables, initials, the order names sort in, and short ids.

``深圳市基石协作科技`` reads as the syllables ``shen zhen shi ji shi xie zuo ke ji`` (pypinyin, with its
phrase dictionary for readings such as 重庆 chong qing and 银行 yin hang); its initials are ``szsjsxzkj``.
Latin words count as one syllable each (``IBM 中国`` is ``ibm zhong guo``, initials ``izg``). What a user
types (``jishi``, ``ji shi``, ``JSXZ``) is matched without spaces, hyphens or case: pinyin from the start
of any syllable, initials anywhere.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from crmcli.domain.ids import is_cjk

_WORD = re.compile(r"[0-9a-z]+")
_TYPED_DROP = re.compile(r"[\s\-_'’·.]+")
MIN_TYPED = 2  # a single typed letter names too many customers to be a pinyin query


@functools.lru_cache(maxsize=8192)
def syllables(name: str) -> tuple[str, ...]:
    """The name's pinyin syllables and Latin words, lower case, without tones (``lv`` for 吕)."""
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    if not is_cjk(text):
        return tuple(_WORD.findall(text))
    from pypinyin import lazy_pinyin  # heavy import, only for CJK names

    out: list[str] = []
    for piece in lazy_pinyin(text, errors=lambda chars: [chars]):  # type: ignore[arg-type,return-value]
        out += _WORD.findall(piece)
    return tuple(out)


def name_keys(name: str) -> tuple[str, str]:
    """(pinyin with a space between syllables, initials) of a name, as the index stores them."""
    parts = syllables(name)
    return " ".join(parts), "".join(p[0] for p in parts)


def sort_key(pinyin: str | None, name: str) -> tuple[str, str]:
    """Order of names: by pinyin (Latin names by their letters), then by the name itself."""
    return (pinyin if pinyin is not None else " ".join(syllables(name)), " ".join(name.casefold().split()))


def typed(text: str) -> str | None:
    """What the user typed as a pinyin or initials query (``Ji Shi`` -> ``jishi``), or None when it cannot be one."""
    key = _TYPED_DROP.sub("", unicodedata.normalize("NFKC", text).casefold())
    return key if len(key) >= MIN_TYPED and key.isascii() and key.isalnum() else None


def pinyin_hit(key: str, pinyin: str) -> bool:
    """Whether ``key`` (from ``typed``) is the pinyin of the name from the start of one of its syllables."""
    parts = pinyin.split()
    return any("".join(parts[i:]).startswith(key) for i in range(len(parts)))


def initials_hit(key: str, initials: str) -> bool:
    return key in initials


def exact_hit(key: str, pinyin: str, initials: str) -> bool:
    """Whether ``key`` is the whole name in pinyin or in initials."""
    return key == pinyin.replace(" ", "") or key == initials
