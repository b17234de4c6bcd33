"""`crm report`: weekly, pipeline, service, customers, needs, funnel, campaigns, referrals and loyalty reports
(pandas; loaded only here)."""
from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import click

from crmcli.analysis import frames
from crmcli.analysis.needs import item_rows
from crmcli.analysis.reports import customers, pipeline, service_full, weekly
from crmcli.analysis.reports import needs as report_needs
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    exit_partial,
    get_app,
    quiet_option,
    records_option,
    report_skipped,
)
from crmcli.domain import dates, health
from crmcli.domain.interactions import parse_until
from crmcli.errors import InvalidRecord, UsageError
from crmcli.render import reports as out
from crmcli.store.files import atomic_write

FORMATS = ["table", "md", "csv", "json", "html", "xlsx"]
EXTENSIONS = {".txt": "table", ".md": "md", ".markdown": "md", ".csv": "csv", ".json": "json", ".html": "html",
              ".htm": "html", ".xlsx": "xlsx"}


def _common(fn: Callable) -> Callable:
    fn = click.option("--section", "sections", metavar="KEY", multiple=True,
                      help="Only these sections (repeatable; see the keys in --format json).")(fn)
    fn = click.option("--skip-invalid", is_flag=True, expose_value=False,
                      callback=lambda ctx, _param, value: ctx.meta.__setitem__("crm.skip_invalid", value),
                      help="Leave out customers whose files cannot be read (each is still named on stderr) "
                           "instead of failing with exit 4.")(fn)
    fn = click.option("--output", "-o", metavar="FILE",
                      help="Write to FILE (missing folders are made; - is standard output); its extension picks the "
                           "format (.md .csv .json .html .xlsx .txt).")(fn)
    fn = click.option("--format", "-f", "fmt", type=click.Choice(FORMATS),
                      help="Output format (default: from --output's extension, else table).")(fn)
    return records_option(quiet_option(fn))


def _format(fmt: str | None, output: str | None) -> str:
    if fmt:
        return fmt
    if output and output != "-":
        ext = Path(output).suffix.lower()
        if ext not in EXTENSIONS:
            raise UsageError(f"--output {output}: cannot tell the format from the extension {ext or '(none)'}; "
                             f"use one of {', '.join(EXTENSIONS)} or give --format")
        return EXTENSIONS[ext]
    return "table"


def _when(text: str, what: str, *, end_of_day: bool = False) -> datetime:
    try:
        if end_of_day:
            return dates.parse_when(text, prefer="past", date_only_time=time(23, 59, 59))
        return dates.parse_when(text, prefer="past")
    except dates.DateError as exc:
        raise InvalidRecord(f"{what}: {exc}") from None


def _emit(report: Any, fmt: str, output: str | None, sections: tuple[str, ...]) -> None:
    if sections:
        known = [s.key for s in report.sections]
        unknown = [k for k in sections if k not in known]
        if unknown:
            raise UsageError(f"--section {unknown[0]}: no such section; sections: {', '.join(known)}")
        report.sections = [s for s in report.sections if s.key in sections]
    to_file = bool(output and output != "-")
    data = out.to_table(report, sys.stdout) if fmt == "table" and not to_file else out.render(report, fmt)
    if output and to_file:
        path = Path(output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data if isinstance(data, bytes) else data.encode("utf-8"), sync=False)
        except OSError as exc:
            raise UsageError(f"--output {output}: cannot write ({exc.strerror}); check the folder exists") from None
        if sys.stderr.isatty() and not get_app().quiet:  # no terminal (cron) or -q: success is silent
            click.echo(f"Wrote {report.title.lower()} to {output}", err=True)
    elif isinstance(data, bytes):
        if sys.stdout.isatty():
            raise UsageError("xlsx is binary; write it with --output FILE.xlsx (or redirect standard output)")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        click.echo(data, nl=False, color=True)
    exit_partial(int(click.get_current_context().meta.get("crm.skipped", 0)), "unreadable customer",
                 "the report leaves them out")


def _frames(store: Any, kinds: list[str]) -> dict:
    problems: list[str] = []
    data = frames.load(store, kinds, problems=problems, columns=frames.REPORT_COLUMNS)
    ctx = click.get_current_context()
    report_skipped(problems, bool(ctx.meta.get("crm.skip_invalid")), "no report made")
    ctx.meta["crm.skipped"] = len(problems)
    return data


@click.group(context_settings=CONTEXT_SETTINGS)
def report() -> None:
    """Reports for people, spreadsheets and cron: weekly, pipeline, service, customers, needs, funnel,
    campaigns, referrals, loyalty.

    Terminal tables by default; --format or --output FILE (by extension) for md, csv, json,
    html (one self-contained page with charts) and xlsx (a sheet per section, with charts).
    Output is the same for the same records and CRM_NOW; no prompts, no colour off a terminal.

    \b
    Examples:
      crm report weekly --week 2026-W47
      crm report pipeline --as-of 2026-09-30 -o pipeline.xlsx
      crm report service --since 90d --format md
      crm report customers --format json --section abc
    """


@report.command("weekly")
@click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W47 (default: last full week).")
@click.option("--since", metavar="WHEN", help="Start of the window instead of a week (e.g. 14d, 2026-11-01).")
@click.option("--until", metavar="WHEN", help="End of the window (default: now); a bare day includes that day.")
@click.option("--owner", metavar="NAME", help="Only what this person did, owns or is assigned.")
@_common
def weekly_cmd(week: str | None, since: str | None, until: str | None, owner: str | None, fmt: str | None,
               output: str | None, sections: tuple[str, ...]) -> None:
    """What the team did and what moved in a week: interactions, customers, deals, tickets, tasks.

    \b
    Examples:
      crm report weekly                                  # last full ISO week
      crm report weekly --week 2026-W47 --owner 王芳
      crm report weekly --since 2026-11-01 --until 2026-11-15 -o nov.html
    """

    fmt = _format(fmt, output)
    store = get_app().store()  # first: its crm.yaml sets the time zone of the dates below
    if week and (since or until):
        raise UsageError("give --week or --since/--until, not both")
    try:
        now = dates.now()
        if week:
            start, end = dates.iso_week_range(week)
            label = f"{week.upper()} ({start:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d})"
        elif since or until:
            start = dates.parse_since(since) if since else now - timedelta(days=7)
            end = parse_until(until) if until else now
            label = ""
        else:
            iso = (now - timedelta(days=7)).isocalendar()
            start, end = dates.iso_week_range(f"{iso.year}-W{iso.week:02d}")
            label = f"{iso.year}-W{iso.week:02d} ({start:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d})"
    except dates.DateError as exc:
        raise InvalidRecord(str(exc)) from None
    if end <= start:
        raise UsageError("the window is empty: --until must be after --since")

    data = _frames(store, ["customers", "interactions", "opps", "orders", "tickets", "tasks"])
    rep = weekly.build(data, start=start, end=end, now=now, stages=store.config.stages, owner=owner, label=label,
                       currency=str(store.config.get("currency", "CNY")))
    _emit(rep, fmt, output, sections)


@report.command("pipeline")
@click.option("--as-of", "as_of", metavar="WHEN", help="Replay the pipeline as it stood then (a day means its end).")
@click.option("--since", metavar="WHEN", default="30d", show_default=True,
              help="Start of the movement window (counted back from now).")
@click.option("--owner", metavar="NAME", help="Only this person's deals.")
@_common
def pipeline_cmd(as_of: str | None, since: str, owner: str | None, fmt: str | None, output: str | None,
                 sections: tuple[str, ...]) -> None:
    """Pipeline by stage, forecast by close month and category, conversion, win rate, cycle, movement.

    \b
    Examples:
      crm report pipeline
      crm report pipeline --as-of 2026-09-30 --owner alice
      crm report pipeline --since 2026-10-01 -o pipeline.xlsx
    """

    fmt = _format(fmt, output)
    store = get_app().store()  # first: its crm.yaml sets the time zone of the dates below
    now = dates.now()
    cutoff = _when(as_of, "--as-of", end_of_day=True) if as_of else now
    try:
        start = dates.parse_since(since, base=cutoff)
    except dates.DateError as exc:
        raise InvalidRecord(f"--since: {exc}") from None

    data = _frames(store, ["customers", "opps"])
    rep = pipeline.build(data, pipeline=[p for p in store.config["pipeline"] if isinstance(p, dict)], as_of=cutoff,
                         since=start, now=now, currency=str(store.config.get("currency", "CNY")), owner=owner,
                         label=f"as of {cutoff:%Y-%m-%d %H:%M}")
    _emit(rep, fmt, output, sections)


@report.command("service")
@click.option("--since", metavar="WHEN", help="Only tickets opened since then (e.g. 90d, 2026-01-01).")
@click.option("--assignee", metavar="NAME", help="Only this person's tickets.")
@_common
def service_cmd(since: str | None, assignee: str | None, fmt: str | None, output: str | None,
                sections: tuple[str, ...]) -> None:
    """Open tickets by priority and age, response and resolution times, SLA, CSAT, NPS, complaints, articles used.

    \b
    Examples:
      crm report service
      crm report service --since 90d --format md
      crm report service --assignee bob -o service.html
    """

    fmt = _format(fmt, output)
    store = get_app().store()  # first: its crm.yaml sets the time zone of the dates below
    now = dates.now()
    try:
        start = dates.parse_since(since) if since else None
    except dates.DateError as exc:
        raise InvalidRecord(f"--since: {exc}") from None

    data = _frames(store, ["customers", "tickets", "surveys"])
    rep = service_full.build(store, data, now=now, since=start, owner=assignee)
    _emit(rep, fmt, output, sections)


@report.command("needs")
@_common
def needs_cmd(fmt: str | None, output: str | None, sections: tuple[str, ...]) -> None:
    """The most requested needs across customers, weighted by customer value; by product, by tier; feedback.

    \b
    Examples:
      crm report needs
      crm report needs --section top_needs --format md
    """

    fmt = _format(fmt, output)
    store = get_app().store()  # first: its crm.yaml sets the time zone of the dates below
    data = _frames(store, ["customers", "orders", "opps"])
    rep = report_needs.build(data, item_rows(store), now=dates.now(), currency=str(store.config.get("currency", "CNY")))
    _emit(rep, fmt, output, sections)


@report.command("customers")
@click.option("--owner", metavar="NAME", help="Only this person's customers.")
@_common
def customers_cmd(owner: str | None, fmt: str | None, output: str | None, sections: tuple[str, ...]) -> None:
    """Segments, ABC revenue classes, RFM, lifetime value, churn risk and won revenue by lead source.

    \b
    Examples:
      crm report customers
      crm report customers --owner alice --section churn_risk
      crm report customers -o customers.xlsx
    """

    fmt = _format(fmt, output)
    store = get_app().store()  # first: its crm.yaml sets the time zone of the dates below
    now = dates.now()

    settings = None
    try:

        settings = health.Settings.from_config(store.config)
    except Exception:  # noqa: BLE001 - the health module is optional; the report falls back
        settings = None
    data = _frames(store, ["customers", "interactions", "opps", "orders", "tickets", "tasks", "surveys"])
    from crmcli.analysis.overview import loyalty_map

    rep = customers.build(data, now=now, currency=str(store.config.get("currency", "CNY")),
                          lifecycle=store.config.lifecycle_stages, tiers=[str(t) for t in store.config.tiers],
                          owner=owner, health_settings=settings, loyalty=loyalty_map(store))
    _emit(rep, fmt, output, sections)


def _growth_rows(store: Any) -> dict:
    """Rows of the funnel and campaign reports (crmcli.analysis.growth); unreadable customers: see --skip-invalid."""
    from crmcli.analysis import growth

    problems: list[str] = []
    data = growth.load(store, problems=problems)
    ctx = click.get_current_context()
    report_skipped(problems, bool(ctx.meta.get("crm.skip_invalid")), "no report made")
    ctx.meta["crm.skipped"] = len(problems)
    return data


@report.command("funnel")
@click.option("--since", metavar="WHEN", help="Only customers who became leads since then (e.g. 90d, 2026-01-01).")
@click.option("--until", metavar="WHEN", help="... and before then (a bare day includes that day).")
@click.option("--period", type=click.Choice(["week", "month", "quarter", "year"]), default="month",
              show_default=True, help="The periods of the by-period section.")
@click.option("--owner", metavar="NAME", help="Only this person's customers.")
@_common
def funnel_cmd(since: str | None, until: str | None, period: str, owner: str | None, fmt: str | None,
               output: str | None, sections: tuple[str, ...]) -> None:
    """Lead -> contacted -> opportunity -> won: counts, conversion and median days, by source, campaign, owner, period.

    \b
    Examples:
      crm report funnel
      crm report funnel --since 2026-01-01 --period quarter
      crm report funnel --owner alice --section by_source -f csv
    """
    from crmcli.analysis.reports import funnel

    fmt = _format(fmt, output)
    store = get_app().store()  # first: its crm.yaml sets the time zone of the dates below
    now = dates.now()
    start = _when(since, "--since").date() if since else None
    end = (_when(until, "--until", end_of_day=True).date() + timedelta(days=1)) if until else None
    rows = _growth_rows(store)["funnel"]
    label = " ".join(p for p in (f"from {start}" if start else "", f"to {end - timedelta(days=1)}" if end else "") if p)
    rep = funnel.build(rows, since=start, until=end, period=period, owner=owner, label=label or "all leads",
                       now=now.isoformat())
    _emit(rep, fmt, output, sections)


@report.command("campaigns")
@click.option("--kind", type=click.Choice(["email", "event", "webinar", "trade-show", "ads"]),
              help="Only campaigns of this kind.")
@_common
def campaigns_cmd(kind: str | None, fmt: str | None, output: str | None, sections: tuple[str, ...]) -> None:
    """Per campaign and per kind: members, responses, leads, deals, won revenue, cost per lead, ROI.

    \b
    Examples:
      crm report campaigns
      crm report campaigns --kind event -o events.xlsx
    """
    from crmcli.analysis.reports import campaigns
    from crmcli.store import campaigns as campaign_files

    fmt = _format(fmt, output)
    store = get_app().store()  # first: its crm.yaml sets the time zone of the dates below
    defs = [c.to_dict() for c in campaign_files.all_campaigns(store)]
    rep = campaigns.build(_growth_rows(store), defs, currency=str(store.config.get("currency", "CNY")),
                          now=dates.now().isoformat(), kind=kind)
    _emit(rep, fmt, output, sections)


@report.command("referrals")
@_common
def referrals_cmd(fmt: str | None, output: str | None, sections: tuple[str, ...]) -> None:
    """Who referred whom, the revenue of referred customers, and the rewards due.

    \b
    Examples:
      crm report referrals
      crm report referrals --section referrers -f csv
    """
    from crmcli.analysis.reports import loyalty as report_loyalty
    from crmcli.domain import loyalty

    fmt = _format(fmt, output)
    store = get_app().store()  # first: its crm.yaml sets the time zone of the dates below
    rules = loyalty.Settings.from_config(store.config.get("loyalty"), store.config.get("referrals"))
    rep = report_loyalty.referrals(_growth_rows(store)["members"], reward=rules.referral_reward,
                                   currency=str(store.config.get("currency", "CNY")), now=dates.now().isoformat())
    _emit(rep, fmt, output, sections)


@report.command("loyalty")
@_common
def loyalty_cmd(fmt: str | None, output: str | None, sections: tuple[str, ...]) -> None:
    """Members per tier, points outstanding (a liability), redemption rate, repeat purchases of members.

    \b
    Examples:
      crm report loyalty
      crm report loyalty -o loyalty.xlsx
    """
    from crmcli.analysis.reports import loyalty as report_loyalty
    from crmcli.domain import loyalty

    fmt = _format(fmt, output)
    store = get_app().store()  # first: its crm.yaml sets the time zone of the dates below
    rules = loyalty.Settings.from_config(store.config.get("loyalty"), store.config.get("referrals"))
    rep = report_loyalty.loyalty(_growth_rows(store)["members"], tiers=[t.name for t in rules.tiers],
                                 point_value=rules.point_value, currency=str(store.config.get("currency", "CNY")),
                                 now=dates.now().isoformat())
    _emit(rep, fmt, output, sections)
