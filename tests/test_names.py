"""Finding customers the way a Chinese user names them: part of the name, pinyin, initials, id suffixes, short ids.

Expected answers are worked out here, from the ids crm printed and pypinyin called directly, never from
crm's own lookup.
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

NAMES = {"js": "基石协作", "bj": "北京基石科技", "sz": "深圳市基石协作科技有限公司", "cq": "重庆银行",
         "acme": "Acme Corp"}


def ok(result) -> str:  # noqa: ANN001
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def people(invoke) -> dict[str, str]:  # noqa: ANN001
    return {key: ok(invoke("customer", "add", name)).strip() for key, name in NAMES.items()}


def shortest(cid: str, all_ids: list[str]) -> str:
    """Brute force: the shortest prefix of ``cid`` no other id starts with, at least its first word and two
    characters, not ending in a hyphen."""
    for size in range(1, len(cid) + 1):
        prefix = cid[:size]
        if size < max(len(cid.split("-")[0]), 2) or prefix.endswith("-"):
            continue
        if not any(other.startswith(prefix) for other in all_ids if other != cid):
            return prefix
    return cid


def shown_id(invoke, ref: str) -> str:  # noqa: ANN001
    return json.loads(ok(invoke("customer", "show", ref, "--format", "json")))["id"]


@pytest.mark.parametrize(("ref", "key"), [
    ("北京", "bj"), ("基石协作", "js"), ("深圳", "sz"), ("协作科技", "sz"), ("银", "cq"),
    ("jsxz", "js"), ("JSXZ", "js"), ("jishixiezuo", "js"), ("ji shi xie zuo", "js"), ("bjjs", "bj"),
    ("beijing", "bj"), ("cqyh", "cq"), ("yinhang", "cq"), ("chongqing", "cq"), ("szs", "sz"), ("acme", "acme"),
])
def test_part_of_the_name_pinyin_or_initials_name_one_customer(invoke, people: dict[str, str], ref: str,  # noqa: ANN001
                                                                 key: str) -> None:
    assert shown_id(invoke, ref) == people[key]


def test_every_customer_command_accepts_part_of_the_name(invoke, people: dict[str, str]) -> None:  # noqa: ANN001
    ok(invoke("log", "北京", "call", "问候"))
    assert "问候" in ok(invoke("show", "北京"))
    ok(invoke("task", "add", "cqyh", "寄合同", "--due", "tomorrow"))
    tasks = json.loads(ok(invoke("task", "list", "--customer", "重庆", "--format", "json")))
    assert [(t["customer"], t["text"]) for t in tasks] == [(people["cq"], "寄合同")]
    ok(invoke("customer", "edit", "jsxz", "--set", "tier=A"))
    assert json.loads(ok(invoke("customer", "show", people["js"], "--format", "json")))["tier"] == "A"


def test_the_four_character_suffix_names_a_customer(invoke, people: dict[str, str]) -> None:  # noqa: ANN001
    for cid in people.values():
        assert shown_id(invoke, cid[-4:]) == cid
        assert shown_id(invoke, cid[-4:].upper()) == cid


@pytest.mark.parametrize("ref", ["基石", "基", "jishi", "js"])
def test_several_matches_are_ambiguous_and_listed_with_short_ids(invoke, people: dict[str, str],  # noqa: ANN001
                                                                  ref: str) -> None:
    r = invoke("show", ref)
    assert r.exit_code == 3 and r.stdout == ""
    all_ids = list(people.values())
    listed = [f"{NAMES[k]} ({shortest(people[k], all_ids)})" for k in ("bj", "js", "sz")]  # by pinyin: bei, ji, shen
    assert r.stderr == (f"crm: error: customer {ref!r} is ambiguous: {', '.join(listed)}; "
                        "give more of the name or use the id in brackets\n")
    for shown in listed:  # what the message offers works
        short = shown.rsplit("(", 1)[1].rstrip(")")
        assert shown_id(invoke, short) in all_ids


def test_more_than_five_matches_are_counted(invoke) -> None:  # noqa: ANN001
    for i in range(7):
        ok(invoke("customer", "add", f"华东{'一二三四五六七'[i]}号店"))
    r = invoke("show", "华东")
    assert r.exit_code == 3
    assert r.stderr.count("华东") == 6 and r.stderr.endswith(" and 2 more; give more of the name or use the id "
                                                               "in brackets\n")


@pytest.mark.parametrize(("ref", "key"), [("基十", "js"), ("jisi", "js"), ("北景", "bj"), ("acme-crop", "acme")])
def test_nothing_found_suggests_the_closest(invoke, people: dict[str, str], ref: str, key: str) -> None:  # noqa: ANN001
    r = invoke("customer", "show", ref)
    assert r.exit_code == 3
    short = shortest(people[key], list(people.values()))
    assert r.stderr == f"crm: error: no customer {ref!r}; did you mean: {NAMES[key]} ({short})?\n"


def test_an_exact_name_wins_over_a_longer_one(invoke, people: dict[str, str]) -> None:  # noqa: ANN001
    assert "基石协作" in NAMES["sz"]
    assert shown_id(invoke, "基石协作") == people["js"]
    twin = ok(invoke("customer", "add", "基石协作", "--force")).strip()
    r = invoke("log", "基石协作", "call", "hi")
    assert r.exit_code == 3 and "several customers are named '基石协作'" in r.stderr
    assert people["js"][:-4] in r.stderr and twin != people["js"]


def test_a_renamed_customer_is_found_by_its_new_name(invoke, people: dict[str, str]) -> None:  # noqa: ANN001
    ok(invoke("customer", "edit", people["acme"], "--set", "name=长城贸易"))
    assert lazy_pinyin("长城") == ["chang", "cheng"]
    assert shown_id(invoke, "长城贸易") == shown_id(invoke, "changcheng") == shown_id(invoke, "ccmy") == people["acme"]


def spoken(name: str) -> tuple[list[str], str]:
    """pypinyin's syllables of a name and its initials, computed here."""
    parts = [p.lower() for p in lazy_pinyin(name.replace(" ", "")) if p.isalnum()] if not name.isascii() \
        else name.lower().split()
    return parts, "".join(p[0] for p in parts)


@pytest.mark.parametrize("query", ["jishi", "jsxz", "JiShi", "bjjs", "yinhang", "kj", "zuo ke ji"])
def test_search_finds_names_by_pinyin_and_initials(invoke, people: dict[str, str], query: str) -> None:  # noqa: ANN001
    key = query.replace(" ", "").lower()
    expected = set()
    for k, name in NAMES.items():
        parts, initials = spoken(name)
        if key in initials or any("".join(parts[i:]).startswith(key) for i in range(len(parts))):
            expected.add(people[k])
    assert expected  # each query means someone
    hits = json.loads(ok(invoke("search", query, "--format", "json")))
    assert {h["customer"] for h in hits if h["field"] == "name (pinyin)"} == expected
    assert all(h["snippet"] == h["name"] for h in hits if h["field"] == "name (pinyin)")


def test_search_lists_customers_in_pinyin_order(invoke, people: dict[str, str]) -> None:  # noqa: ANN001
    ok(invoke("customer", "add", "阿里巴巴"))
    ok(invoke("customer", "add", "Zeta Labs"))
    hits = json.loads(ok(invoke("search", "a", "--type", "customer", "--format", "json")))
    names = list(dict.fromkeys(h["name"] for h in hits))
    assert names == sorted(names, key=lambda n: " ".join(spoken(n)[0]))
    assert names[:2] == ["阿里巴巴", "Acme Corp"]  # a li ba ba, then acme


@pytest.mark.parametrize(("query", "key"), [("北京", "bj"), ("银行", "cq"), ("重", "cq")])
def test_search_one_or_two_chinese_characters(invoke, people: dict[str, str], query: str, key: str) -> None:  # noqa: ANN001
    hits = json.loads(ok(invoke("search", query, "--type", "customer", "--format", "json")))
    assert [(h["customer"], h["field"]) for h in hits] == [(people[key], "name")]


def test_customer_list_sorts_names_by_pinyin(invoke, people: dict[str, str]) -> None:  # noqa: ANN001
    for name in ("阿里巴巴", "Zeta Labs", "张三", "吕布", "Beta"):
        ok(invoke("customer", "add", name))
    for args in ([], ["--sort", "name"], ["--sort", "stage"]):  # every customer is a lead: name order within
        rows = json.loads(ok(invoke("customer", "list", *args, "--format", "json")))
        names = [r["name"] for r in rows]
        assert names == sorted(names, key=lambda n: " ".join(spoken(n)[0])), args
    assert names[:4] == ["阿里巴巴", "Acme Corp", "北京基石科技", "Beta"]  # a li, acme, bei jing, beta
    assert names[-2:] == ["Zeta Labs", "张三"]  # zeta, zhang


def table_column(text: str, header: str) -> list[str]:
    """The cells of one column of a plain table (columns split by two or more blanks; no blank cells in it)."""
    lines = text.splitlines()
    heads = lines[0].split()
    return [re.split(r"\s{2,}", line.strip())[heads.index(header)] for line in lines[2:]]


def test_tables_show_short_ids_that_every_command_accepts(invoke, people: dict[str, str]) -> None:  # noqa: ANN001
    twin = ok(invoke("customer", "add", "基石协作", "--force")).strip()  # same slug: only the suffix differs
    ok(invoke("customer", "add", "吉安", "--force"))  # ji-an-...: shares "ji-" with 基石协作
    rows = json.loads(ok(invoke("customer", "list", "--format", "json")))
    all_ids = [r["id"] for r in rows]
    assert twin in all_ids and set(people.values()) < set(all_ids)
    shown = table_column(ok(invoke("customer", "list")), "id")
    assert shown == [shortest(cid, all_ids) for cid in all_ids]
    assert shortest(twin, all_ids) == twin[:len(os.path.commonprefix([twin, people["js"]])) + 1]
    assert shortest(people["bj"], all_ids) == "bei"
    for short, cid in zip(shown, all_ids, strict=True):
        assert shown_id(invoke, short) == cid
    csv_ids = [line.split(",")[0] for line in ok(invoke("customer", "list", "--format", "csv")).splitlines()[1:]]
    assert csv_ids == all_ids  # machine formats keep the full ids
    assert "- id: " + all_ids[0] in ok(invoke("customer", "list", "--format", "yaml"))


def test_task_list_agenda_and_search_show_short_ids(invoke, people: dict[str, str]) -> None:  # noqa: ANN001
    ok(invoke("task", "add", "北京", "寄合同", "--due", "today"))
    task = json.loads(ok(invoke("task", "list", "--format", "json")))[0]
    assert task["ref"].startswith(people["bj"] + "/task-")
    short = "bei/" + task["id"]
    assert table_column(ok(invoke("task", "list")), "task") == [short]
    assert short in ok(invoke("agenda")) and people["bj"] not in ok(invoke("agenda"))
    ok(invoke("task", "done", short))
    assert json.loads(ok(invoke("task", "list", "--all", "--format", "json")))[0]["status"] == "done"
    found = ok(invoke("search", "北京", "--type", "customer"))
    assert table_column(found, "id") == ["bei"]
    assert json.loads(ok(invoke("search", "北京", "--format", "json")))[0]["ref"] == people["bj"]


# -- the index's answer equals a scan of the files ----------------------------------------------------------------
POOL = "基石北京协作科技银行重庆长城吕"
LATIN = ("Acme", "Ji", "Bei", "Shi", "Labs")
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _syllables(name: str) -> list[str]:
    return [w for piece in lazy_pinyin(_norm(name)) for w in re.findall(r"[0-9a-z]+", piece)]


def scan_answer(root: Path, ref: str) -> list[str]:
    """The customers ``ref`` names, by the README's rules, from the profiles parsed here with PyYAML."""
    names = {p.parent.name: str(yaml.safe_load(p.read_text(encoding="utf-8"))["name"])
             for p in (root / "customers").glob("*/*/customer.yaml")}
    low = ref.strip().lower()
    if low in names:
        return [low]
    prefix = [cid for cid in names if cid.startswith(low)] if re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", low) else []
    if len(prefix) == 1:
        return prefix
    key = re.sub(r"[\s\-_'’·.]+", "", unicodedata.normalize("NFKC", ref).casefold())
    key = key if len(key) >= 2 and key.isascii() and key.isalnum() else ""
    spoken = {cid: _syllables(name) for cid, name in names.items()}
    suffix = {cid for cid in names if len(low) == 4 and set(low) <= set(ALPHABET) and cid.endswith("-" + low)}
    tiers = [[cid for cid, name in names.items() if _norm(name) == _norm(ref)],
             [cid for cid, syl in spoken.items() if key and key in ("".join(syl), "".join(s[0] for s in syl))],
             sorted(set(prefix) | suffix
                    | {cid for cid, name in names.items() if _norm(ref) and _norm(ref) in _norm(name)}
                    | {cid for cid, syl in spoken.items() if key and (
                        key in "".join(s[0] for s in syl)
                        or any("".join(syl[i:]).startswith(key) for i in range(len(syl))))})]
    return next((sorted(tier) for tier in tiers if tier), [])


NAME = st.lists(st.one_of(st.sampled_from(POOL), st.sampled_from(LATIN).map(lambda w: f" {w} ")),
                min_size=1, max_size=5).map(lambda parts: " ".join("".join(parts).split()))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # each example runs crm: no long shrinking
@given(names=st.lists(NAME, min_size=1, max_size=3), data=st.data())
def test_name_lookup_through_the_index_equals_a_scan(invoke, store_dir: Path, names: list[str],  # noqa: ANN001
                                                      data: st.DataObject) -> None:
    added = [ok(invoke("customer", "add", name, "--force")).strip() for name in names]
    name, cid = data.draw(st.sampled_from(list(zip(names, added, strict=True))))  # the store holds earlier ones too
    syl = _syllables(name)
    start, size = data.draw(st.integers(0, len(name) - 1)), data.draw(st.integers(1, 3))
    other = data.draw(st.text(POOL + "abjs", min_size=1, max_size=3))
    refs = [name, name[start:start + size], "".join(syl[start % len(syl):][:size]),
            "".join(s[0] for s in syl)[start % len(syl):][:size + 1], other, cid[-4:], cid[:size + 1]]
    for ref in sorted({r.strip() for r in refs if r.strip()}):
        assert_resolves_as_a_scan(invoke, store_dir, ref)


def assert_resolves_as_a_scan(invoke, root: Path, ref: str) -> None:  # noqa: ANN001
    expected = scan_answer(root, ref)
    r = invoke("customer", "show", ref, "--format", "json")
    if len(expected) == 1:
        assert r.exit_code == 0 and json.loads(r.stdout)["id"] == expected[0], (ref, r.output)
    elif expected:
        assert r.exit_code == 3 and (" is ambiguous: " in r.stderr or "several customers are named" in r.stderr)
        assert f" and {len(expected) - 5} more;" in r.stderr if len(expected) > 5 else \
            r.stderr.count("(") == len(expected), (ref, expected, r.stderr)
    else:
        assert r.exit_code == 3 and r.stderr.startswith(f"crm: error: no customer {ref!r}"), (ref, r.stderr)


@pytest.mark.parametrize(("typo", "meant"), [("custmer", "customer"), ("seach", "search"), ("agnda", "agenda")])
def test_a_mistyped_command_suggests_the_real_one(invoke, typo: str, meant: str) -> None:  # noqa: ANN001
    r = invoke(typo, "list")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.endswith(f"Error: No such command {typo!r}. Did you mean {meant!r}?\n")
    r = invoke("zzzz")
    assert r.exit_code == 2 and r.stderr.endswith("Error: No such command 'zzzz'.\n")
