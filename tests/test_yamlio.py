"""The YAML dialect: round trips of tricky text, stable key order, dates as text, aliases refused."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli import yamlio
from crmcli.domain.customer import CUSTOMER_FIELDS, Customer
from crmcli.yamlio import YamlSyntaxError
from tests.conftest import commits, git

TRICKY = [
    "深圳市基石协作科技有限公司", "😀 emoji 🚀", "line one\nline two", "trailing newline\n", "a: b", "key: value # not",
    "# a comment?", "007", "0x1F", "1e3", "1_000", ".inf", "yes", "no", "on", "off", "y", "n", "true", "null", "~",
    "2026-11-20", "2026-11-20T14:30:00+08:00", "2026-11-20 14:30", "- item", "[a, b]", "{a: 1}", "'quoted'",
    '"double"', "*alias", "&anchor", "!tag", "%directive", "@at", "`tick", "|", ">", "---", "...", "<<", "=", "?",
    " leading space", "trailing space ", "tab\there", "crlf\r\nline", "a\u2028b", "nel\x85x", "bom\ufeff",
    "x" * 300, "word " * 60, "", " ", "\n", "a\n\nb\n\n",
]

texts = st.one_of(st.sampled_from(TRICKY), st.text(), st.text(alphabet=st.characters(codec="utf-8")))
scalars = st.one_of(texts, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    data = {
        "name": draw(texts.filter(bool)),
        "tier": draw(st.sampled_from(["A", "B", "C", "D"])),
        "tags": draw(st.lists(texts, max_size=3)),
        "address": draw(texts),
        "contacts": draw(st.lists(st.fixed_dictionaries({"name": texts, "email": texts},
                                                        optional={"note": texts}), max_size=2)),
        "extra": draw(st.dictionaries(texts, scalars, max_size=4)),
        "created": draw(texts),
    }
    unknown = draw(st.dictionaries(texts.filter(lambda k: k not in CUSTOMER_FIELDS), scalars, max_size=2))
    keys = draw(st.permutations(list(data)))
    return Customer("x-0000", {**{k: data[k] for k in keys}, **unknown})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers())
def test_customer_round_trips_through_yaml(customer: Customer) -> None:
    data = customer.to_dict()
    text = yamlio.dumps(data)
    assert yamlio.loads(text) == data
    assert list(yamlio.loads(text)) == list(data)
    assert yamlio.dumps(yamlio.loads(text)) == text  # stable: a rewrite changes nothing


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(texts, scalars, max_size=6))
def test_journal_entries_round_trip_on_one_line(entry: dict) -> None:
    line = yamlio.dump_entry(entry)
    assert line.endswith("\n") and line.count("\n") == 1 and line.startswith("- ")
    assert yamlio.loads(line) == [entry]
    assert yamlio.loads("- at: 2026-01-01T00:00:00+08:00\n" + line) == [{"at": "2026-01-01T00:00:00+08:00"}, entry]


# text made of the characters that decide between plain, single-quoted and double-quoted
awkward = st.text(alphabet=st.sampled_from(list("aZ_ 09.@/+=()&%!*|>'\"$;-,[]{}:?#~\\`\t\n") + ["北", "é", "ǿ",
                                                                                                "\u00a0", "😀"]))
entry_values = st.one_of(st.sampled_from(TRICKY), awkward, st.integers(), st.booleans(), st.none())


def _pyyaml_entry(entry: dict) -> str:
    return "- " + yaml.dump(entry, Dumper=yamlio._EntryDumper, allow_unicode=True, sort_keys=False,
                            default_flow_style=True, width=1 << 30)


@settings(max_examples=2000, deadline=None)
@given(st.dictionaries(st.one_of(awkward, st.sampled_from(["at", "kind", "stage_at", "x" * 101])), entry_values,
                       max_size=5))
def test_the_quick_entry_writer_writes_what_pyyaml_writes(entry: dict) -> None:
    assert yamlio.dump_entry(entry) == _pyyaml_entry(entry)


def test_the_quick_entry_writer_on_each_character_in_each_place() -> None:
    chars = [chr(c) for c in range(32, 127)] + ["\t", "\n", "北", "é", "\u00a0", "😀"]
    for c in chars:
        for text in (f"a{c}b", f"{c}a", f"a{c}", f"a {c}b", f"a{c} b", f"{c} a", c, f"2026-01-01T09:00:00+08:00{c}"):
            entry = {text: text, "k": text}
            assert yamlio.dump_entry(entry) == _pyyaml_entry(entry), text


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_text_stays_text(value: str) -> None:
    for data in ({"v": value}, [value], {value or "k": "v"}):
        assert yamlio.loads(yamlio.dumps(data)) == data


def test_how_values_are_written() -> None:
    assert yamlio.dumps({"zero": "007", "yes": "yes", "on": "on", "date": "2026-11-20", "num": 7, "colon": "a: b",
                         "hash": "#c", "cjk": "李娜", "emoji": "🚀", "multi": "one\ntwo", "flag": True,
                         "empty": ""}) == (
        "zero: '007'\n"
        "'yes': 'yes'\n"
        "'on': 'on'\n"
        "date: 2026-11-20\n"
        "num: 7\n"
        "colon: 'a: b'\n"
        "hash: '#c'\n"
        "cjk: 李娜\n"
        "emoji: 🚀\n"
        "multi: |-\n  one\n  two\n"
        "flag: true\n"
        "empty: ''\n")


def test_dates_and_times_load_as_the_text_written() -> None:
    data = yamlio.loads("d: 2026-11-20\nt: 2026-11-20T14:30:00+08:00\ns: 2026-11-20 14:30:00\nn: 12\nf: 1.5\n"
                        "b: yes\nz: 007\n")
    assert data == {"d": "2026-11-20", "t": "2026-11-20T14:30:00+08:00", "s": "2026-11-20 14:30:00", "n": 12,
                    "f": 1.5, "b": True, "z": 7}


def test_key_order_is_stable_known_fields_first() -> None:
    c = Customer("x", {"legacy_id": 12, "created": "2026-11-20T14:30:00+08:00", "tier": "A", "zzz": {"b": 1, "a": 2},
                       "name": "Acme", "tags": [], "owner": None, "contacts": [{"email": "a@b.co", "name": "Jane",
                                                                                "legacy": 1}]})
    assert yamlio.dumps(c.to_dict()) == (
        "name: Acme\ntier: A\ncontacts:\n- name: Jane\n  email: a@b.co\n  legacy: 1\n"
        "created: 2026-11-20T14:30:00+08:00\nlegacy_id: 12\nzzz:\n  b: 1\n  a: 2\n")


def test_syntax_errors_carry_path_and_line() -> None:
    with pytest.raises(YamlSyntaxError) as err:
        yamlio.loads("name: Acme\ntier: A\n  bad: indent\n", "customers/ac/acme/customer.yaml")
    assert (err.value.path, err.value.line) == ("customers/ac/acme/customer.yaml", 3)
    assert str(err.value).startswith("customers/ac/acme/customer.yaml:3: unreadable YAML: mapping values are not "
                                     "allowed ")
    assert str(err.value).endswith("; fix the file or restore it with git")
    with pytest.raises(YamlSyntaxError) as err:
        yamlio.loads("a: 1\n---\nb: 2\n", "x.yaml")
    assert str(err.value).startswith("x.yaml:")


def test_aliases_are_refused_but_stars_in_text_are_fine() -> None:
    with pytest.raises(YamlSyntaxError) as err:
        yamlio.loads("a: &x [1, 2]\nb: *x\n", "f.yaml")
    assert str(err.value) == "f.yaml:2: YAML aliases (*name) are not allowed in records; write the value out"
    with pytest.raises(YamlSyntaxError) as err:
        yamlio.loads("base: &b {tier: A}\nother:\n  <<: *b\n", "f.yaml")
    assert err.value.line == 3
    assert yamlio.loads("price: 5*3\nnote: '*important*'\nstars: '**'\n") == {
        "price": "5*3", "note": "*important*", "stars": "**"}


def test_key_line() -> None:
    text = "name: Acme\ncontacts:\n- name: Jane\n  email: bad\n- name: Bob\n  email: x\nextra:\n  7: seven\n"
    assert yamlio.key_line(text, ("name",)) == 1
    assert yamlio.key_line(text, ("contacts", 0, "email")) == 4
    assert yamlio.key_line(text, ("contacts", 1)) == 5
    assert yamlio.key_line(text, ("contacts", 1, "email")) == 6
    assert yamlio.key_line(text, ("extra", 7)) == 8
    assert yamlio.key_line(text, ("contacts", 9, "email")) == 2  # deepest found
    assert yamlio.key_line(text, ()) == 1
    assert yamlio.key_line("a: [\n", ("a",)) is None


def test_unknown_fields_survive_a_cli_edit_in_place(invoke, store_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-11-20T14:30:00+08:00")
    cid = invoke("customer", "add", "Acme Corp", "--tier", "B", "--contact", "Jane <jane@acme.example>").stdout.strip()
    path = store_dir / "customers" / "ac" / cid / "customer.yaml"
    text = path.read_text()
    text = text.replace("  primary: true\n", "  primary: true\n  wechat: jane_w\n")
    path.write_text(text + "legacy_id: 12\nlegacy:\n  crm: salesforce\n  ids: [1, 2]\n")
    git(store_dir, "commit", "-qam", "Hand edit")
    r = invoke("customer", "edit", cid, "--set", "tier=A")
    assert r.exit_code == 0, r.output
    assert r.stdout == "tier: B -> A\n"
    assert path.read_text() == (
        "name: Acme Corp\nkind: company\ntier: A\nstage: lead\ncontacts:\n- name: Jane\n  email: jane@acme.example\n"
        "  primary: true\n  wechat: jane_w\ncreated: 2026-11-20T14:30:00+08:00\nlegacy_id: 12\nlegacy:\n"
        "  crm: salesforce\n  ids: [1, 2]\n")  # issue 18: --set changes only the line that differs
    diff = git(store_dir, "diff", "-U0", "HEAD~1").splitlines()
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "-tier: B", "+tier: A"]
    r = invoke("customer", "edit", cid, "--set", "legacy_id=13")
    assert r.exit_code == 0, r.output
    assert "legacy_id: '13'\n" in path.read_text()
    assert commits(store_dir)[0] == f"Edit customer Acme Corp ({cid}): legacy_id: 12 -> 13"
