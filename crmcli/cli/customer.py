"""`crm customer`: add, list, show, edit and remove customers."""
from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from crmcli.actions import customer as lib
from crmcli.actions.customer import change_lines, profile_rows, show_customer
from crmcli.analysis.overview import customer_health, referral_map
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    confirm,
    done,
    echo,
    exit_partial,
    format_option,
    get_app,
    records_option,
    report_skipped,
    say,
    shortened,
    skip_invalid_option,
    store_options,
)
from crmcli.domain import dates
from crmcli.errors import CrmError, InvalidRecord, UsageError
from crmcli.render.labels import label, translate
from crmcli.render.tables import key_values, render, render_data

LIST_COLUMNS = ["id", "name", "kind", "tier", "stage", "owner", "industry", "tags"]


@click.group(context_settings=CONTEXT_SETTINGS)
def customer() -> None:
    """Add, list, show, edit and remove customers.

    \b
    Examples:
      crm customer add "Acme Corp" --tier A --owner alice --tag saas
      crm customer list --stage customer --sort tier
      crm customer show acme
      crm customer edit acme --set tier=A --set owner=bob
    """


@customer.command("add")
@click.argument("name")
@click.option("--kind", help="company or person (see kinds in crm.yaml).")
@click.option("--industry")
@click.option("--size", help="Head count or band, e.g. 50-200.")
@click.option("--tier", help="Value tier (see tiers in crm.yaml).")
@click.option("--stage", help="Lifecycle stage (default: lead).")
@click.option("--owner", help="Who looks after the customer.")
@click.option("--source", help="Where the lead came from.")
@click.option("--campaign", help="The campaign the customer came from (see crm campaign list).")
@click.option("--referred-by", "referred_by", metavar="CUSTOMER", help="The customer who referred this one.")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for more.")
@click.option("--website")
@click.option("--address")
@click.option("--birthday", help="YYYY-MM-DD (for people).")
@click.option("--touch-every", help="Contact cadence, e.g. 30d; the agenda warns when it lapses.")
@click.option("--email", help="The customer's own email (a person's, or a company's main address).")
@click.option("--phone", help="The customer's own phone number.")
@click.option("--contact", "contacts", multiple=True, metavar="'NAME <EMAIL>, PHONE'",
              help="A contact; repeat for more.")
@click.option("--set", "extra", multiple=True, metavar="FIELD=VALUE", help="A free field kept under extra.")
@click.option("--force", is_flag=True, help="Add even if a customer of that name exists.")
@format_option(["text", "json", "yaml"], default="text")
@store_options(result_format=False)
def customer_add(name: str, kind: str | None, industry: str | None, size: str | None, tier: str | None,
                 stage: str | None, owner: str | None, source: str | None, campaign: str | None,
                 referred_by: str | None, tags: tuple[str, ...],
                 website: str | None, address: str | None, birthday: str | None, touch_every: str | None,
                 email: str | None, phone: str | None, contacts: tuple[str, ...], extra: tuple[str, ...],
                 force: bool, fmt: str) -> None:
    """Add a customer; prints the new id.

    \b
    Examples:
      crm customer add "Acme Corp" --industry software --tier A --tag saas
      crm customer add 深圳市基石协作科技有限公司 --owner 王芳 --contact "李娜 <li.na@example.cn>"
      crm customer add "Jane Doe" --kind person --email jane@example.com --phone "+1 555 0100"
    """

    store = get_app().store()
    people = [lib.parse_contact_option(c) for c in contacts]
    fields: dict[str, Any] = {
        "kind": kind, "industry": industry, "size": size, "tier": tier, "stage": stage, "owner": owner,
        "source": source, "campaign": campaign, "referred_by": referred_by, "tags": list(tags) or None,
        "website": website, "address": address,
        "birthday": _date(birthday), "touch_every": touch_every, "email": email, "phone": phone,
    }
    if extra:
        fields["extra"] = dict(lib.parse_assignment(e) for e in extra)
    added = lib.add_customer(store, name, fields=fields, contacts=people, force=force)
    _print_one(added, fmt)
    done(f"Added {added.name} ({added.id})", store)


def _date(text: str | None) -> str | None:
    if not text:
        return None

    try:
        return dates.parse_date(text).isoformat()
    except dates.DateError as exc:
        raise InvalidRecord(str(exc)) from None


def _print_one(c: Any, fmt: str) -> None:
    if fmt == "text":
        echo(c.id)
    else:
        render_data({"id": c.id, **c.to_dict()}, fmt)


@customer.command("list")
@click.option("--tag", "tags", multiple=True, help="Only customers with this tag (repeat: all of them).")
@click.option("--owner")
@click.option("--stage")
@click.option("--tier")
@click.option("--industry")
@click.option("--kind")
@click.option("--source")
@click.option("--query", "-q", help="Text found in the name, id, contacts, emails or phones.")
@click.option("--sort", default="name", show_default=True,
              help="Field to sort by: id, name, kind, industry, size, tier, stage, owner, source, created, "
                   "or health (lowest score first).")
@click.option("--at-risk", "at_risk", is_flag=True,
              help="Only customers whose health score is below at_risk_below (health in crm.yaml).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many rows.")
@skip_invalid_option
@format_option()
@records_option
def customer_list(tags: tuple[str, ...], owner: str | None, stage: str | None, tier: str | None,
                  industry: str | None, kind: str | None, source: str | None, query: str | None, sort: str,
                  at_risk: bool, limit: int | None, skip_invalid: bool, fmt: str) -> None:
    """List customers, filtered and sorted.

    --sort health and --at-risk compute each listed customer's health score
    (see crm show), which reads every listed customer's journal. A customer
    whose files cannot be read is named on stderr and the command fails
    (exit 4) unless --skip-invalid.

    \b
    Examples:
      crm customer list --tier A --owner alice
      crm customer list --tag saas --sort created
      crm customer list -q 李 --format json
      crm customer list --at-risk --sort health
    """

    store = get_app().store()
    fields = {k: v for k, v in {"owner": owner, "stage": stage, "tier": tier, "industry": industry,
                                "kind": kind, "source": source}.items() if v}
    by_health = sort.strip().lower() == "health"
    problems: list[str] = []
    rows = lib.list_customers(store, lib.CustomerFilter(tags=tags, query=query, fields=fields),
                              sort="name" if by_health else sort, problems=problems)
    report_skipped(problems, skip_invalid, "nothing listed")
    scores: dict[str, Any] = {}
    if by_health or at_risk:  # reads journals: only when asked, so the plain list stays fast
        rows, scores = _with_health(store, rows, by_health, at_risk)
    if limit:
        rows = rows[:limit]
    data = [{"id": c.id, **{k: c.get(k) for k in LIST_COLUMNS[1:]}, "name": c.name} for c in rows]
    columns = LIST_COLUMNS if fmt == "table" else ["id", "name", "kind", "industry", "size", "tier", "stage",
                                                    "owner", "source", "tags", "created"]
    if fmt != "table":
        data = [{"id": c.id, **{k: c.get(k) for k in columns[1:]}} for c in rows]
    if scores:
        columns = [*columns, "health"] if fmt == "table" else [*columns, "health", "at_risk", "warnings"]
        for row in data:
            h = scores[row["id"]]
            row.update(health=h.score, at_risk=h.at_risk, warnings=[w["kind"] for w in h.warnings])
    if fmt == "table":
        for row in data:
            h = scores.get(row["id"])
            if h is not None:
                row["_fg_health"] = "red" if h.at_risk else "yellow" if h.score < 70 else "green"
        data = shortened(store, data, "id")
    render(data, fmt, columns=columns, empty="No customers match.", drop=["tags", "industry", "kind", "owner"])
    exit_partial(len(problems), "unreadable customer", "the others were listed")


def _with_health(store: Any, rows: list[Any], by_health: bool, at_risk: bool) -> tuple[list[Any], dict[str, Any]]:
    now = dates.now()
    refs = referral_map(store)
    scores = {c.id: customer_health(store, c, now, refs) for c in rows}
    if at_risk:
        rows = [c for c in rows if scores[c.id].at_risk]
    if by_health:
        rows = sorted(rows, key=lambda c: scores[c.id].score)  # stable: by name within a score
    return rows, scores


def _shown_time(value: Any) -> Any:
    """A stored ISO time as every screen shows it (``2026-11-23 10:00``, local)."""
    try:
        return dates.format_local(dates.parse_iso(str(value)))
    except dates.DateError:
        return value


@customer.command("show")
@click.argument("customer_ref", metavar="CUSTOMER")
@format_option(["text", "json", "yaml"], default="text")
@records_option
def customer_show(customer_ref: str, fmt: str) -> None:
    """Show a customer's profile and contacts.

    CUSTOMER is an id, a unique id prefix (the short id tables show), the
    id's last 4 characters, the name or part of it (北京), its pinyin
    (jishi) or initials (jsxz). Sensitive fields show decrypted when your
    identity ($CRM_IDENTITY) can read them, else as ••••.

    \b
    Examples:
      crm customer show acme
      crm customer show 深圳市基石协作科技有限公司 --format yaml
      crm customer show jsxz
    """

    c = show_customer(get_app().store(), customer_ref)
    if fmt != "text":
        render_data({"id": c.id, **c.to_dict()}, fmt)
        return
    key_values([(label(k), _shown_time(v) if k == "created" else v) for k, v in profile_rows(c)])
    if c.contacts:
        echo("")
        echo(translate("Contacts"))
        rows = [dict(c2, primary="*" if c2.get("primary") else "") for c2 in c.contacts if isinstance(c2, dict)]
        render(rows, "table", columns=["primary", "name", "title", "email", "phone"],
               headers=["", "name", "title", "email", "phone"])


@customer.command("edit")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.option("--set", "assignments", multiple=True, metavar="FIELD=VALUE",
              help="Set a field (FIELD= clears it; extra.NAME=VALUE sets a free field). Repeatable.")
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False),
              help="Replace the profile with this YAML file (e.g. one saved by a failed edit).")
@store_options
def customer_edit(customer_ref: str, assignments: tuple[str, ...], from_file: str | None) -> None:
    """Change a customer's fields, or edit its YAML in $EDITOR.

    Without --set, opens customer.yaml in $EDITOR and saves it only when it is
    valid; an invalid result is kept in a file whose path is printed, so
    nothing typed is lost (retry with --from-file).

    \b
    Examples:
      crm customer edit acme --set tier=A --set stage=customer
      crm customer edit acme --set tags=saas,vip --set extra.erp_id=4711
      crm customer edit acme            # opens $EDITOR
    """

    store = get_app().store()
    if assignments:
        before, after = lib.edit_customer(store, customer_ref, [lib.parse_assignment(a) for a in assignments])
        _report_edit(store, before, after)
        return
    cid = store.resolve(customer_ref)
    text: str | None
    if from_file:
        with open(from_file, encoding="utf-8") as fh:
            text = fh.read()
    else:
        text = _edit_in_editor(store, cid)
        if text is None:
            done("No change.")
            return
    before = store.load_customer(cid, validate=False)
    try:
        after = lib.edit_customer_text(store, cid, text, source=from_file)
    except Exception as exc:

        if isinstance(exc, CrmError) and not from_file:
            saved = _keep_text(store, cid, text)
            exc.args = (f"{exc}; your text is saved in {saved} (retry: crm customer edit {cid} "
                        f"--from-file {saved})",)
        raise
    _report_edit(store, before, after)


def _edit_in_editor(store: Any, cid: str) -> str | None:
    if not sys.stdin.isatty():
        raise UsageError("no --set given and no terminal to open an editor on; use --set FIELD=VALUE")
    original = store.read_text(store.customer_file(cid))
    edited = click.edit(original, extension=".yaml", require_save=True)
    if edited is None or edited == original:
        return None
    return edited


def _keep_text(store: Any, cid: str, text: str) -> str:
    folder = store.state_dir / "edits"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{cid}-{time.strftime('%Y%m%d-%H%M%S')}.yaml"
    path.write_text(text, encoding="utf-8")
    return os.path.relpath(path)


def _report_edit(store: Any, before: Any, after: Any) -> None:
    if after is None:
        done("No change.")
        return

    lines = change_lines(store, before.data, after.data)
    for line in lines:
        say(line)
    changed = sorted(k for k in set(before.data) | set(after.data) if before.data.get(k) != after.data.get(k))
    done(f"Updated {after.name} ({after.id})", store, customer=after.id, changed=changed, changes=lines)


@customer.command("rm")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@store_options
def customer_rm(customer_ref: str, yes: bool) -> None:
    """Remove a customer and its folder (git keeps the history; crm undo brings it back).

    \b
    Examples:
      crm customer rm acme-corp-7k2m --yes
    """

    store = get_app().store()
    cid = store.resolve(customer_ref)
    name = store.load_customer(cid, validate=False).name
    confirm(f"Remove {name} ({cid}) and all its records?", yes)
    lib.remove_customer(store, cid)
    done(f"Removed {name} ({cid})", store, customer=cid, removed=True)
