"""The site's pages as HTML text: home, a customer's 360° page, customer list, pipeline board, ticket queue.

Pure functions of plain data (the overview of ``crmcli.analysis.overview``, DataFrames of
``crmcli.analysis.frames``, reports); no reading, no writing. ``up`` is the relative path to the site's root
("" or "../"), so every link works opened from disk. Each page names the ``crm`` command that shows the same.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from crmcli.domain import dates
from crmcli.domain.money import format_money
from crmcli.render.html_page import cards, command, esc, page, table

Tr = Callable[[str], str]
NAV = [("index.html", "Home"), ("customers/index.html", "Customers"), ("pipeline.html", "Pipeline"),
       ("tickets.html", "Tickets"), ("reports/weekly.html", "Reports")]
REPORTS = ["weekly", "pipeline", "service", "customers"]


def customer_href(cid: str, up: str) -> str:
    return f"{up}customers/{cid}.html"


def customer_link(cid: str, name: str | None, up: str) -> str:
    return f'<a href="{esc(customer_href(cid, up))}">{esc(name or cid)}</a> <span class="muted">{esc(cid)}</span>'


def shell(title: str, body: str, *, up: str, tr: Tr, lang: str, cmd: str, built: str) -> str:
    nav = '<nav class="top">' + "".join(f'<a href="{up}{href}">{esc(tr(label))}</a>' for href, label in NAV) + "</nav>"
    footer = (f'<p class="note">{esc(tr("Same in a terminal"))}: {command(cmd)}</p>'
              f'<p class="note">crmcli · {esc(tr("built"))} {esc(built)}</p>')
    return page(title, body, lang=lang, nav=nav, footer=footer)


def _money(v: Any, currency: str | None) -> str:
    return "" if v is None else format_money(v, currency)


def _local(iso: str | None) -> str:
    return dates.format_local(dates.parse_iso(iso)) if iso else ""


def _section(title: str, headers: Sequence[str], rows: list[list[str]], tr: Tr, *, numeric: Sequence[bool] = (),
             raw: bool = False, key: str = "") -> str:
    ident = f' id="{esc(key)}"' if key else ""
    if not rows:
        return f'<section{ident}><h2>{esc(tr(title))}</h2><p class="muted">{esc(tr("none"))}</p></section>'
    num = list(numeric) or [False] * len(headers)
    return (f'<section{ident}><h2>{esc(tr(title))} ({len(rows)})</h2>'
            + table([tr(h) for h in headers], rows, num, raw=raw) + "</section>")


# -- a customer ------------------------------------------------------------------------------------------

def customer_page(data: dict, *, tr: Tr, lang: str, built: str) -> str:
    """The 360° page of one customer, from ``crmcli.analysis.overview.build_overview``'s data."""
    up, cid, m, h = "../", data["id"], data["metrics"], data["health"]
    cur = m["currency"]
    band = "bad" if h["at_risk"] else "ok"
    out = [f"<h1>{esc(data['name'])}</h1>",
           f'<p>{esc(tr("Customer id"))}: <code class="cmd">{esc(cid)}</code> · '
           f'<span class="{band}">{esc(tr("health"))} {h["score"]}/100'
           + (f' ({esc(tr("at risk"))})' if h["at_risk"] else "") + "</span></p>"]
    labels = {"stage": "lifecycle", "touch_every": "cadence"}
    core = [[esc(tr(labels.get(k, k))), esc(", ".join(map(str, v)) if isinstance(v, list) else v)]
            for k, v in data["core"].items() if k != "name"]
    if core:
        out.append(table(["", ""], core, raw=True).replace("<thead><tr><th></th><th></th></tr></thead>", ""))
    task = m.get("next_task")
    last = (f'{_local(m["last_contact"])} ({m["last_contact_kind"]})' if m["last_contact"] else tr("never"))
    metrics: list[tuple] = [
        (tr("revenue this year"), _money(m["revenue_this_year"], cur), "", "revenue_this_year",
         m["revenue_this_year"]),
        (tr("revenue lifetime"), _money(m["revenue_lifetime"], cur), "", "revenue_lifetime", m["revenue_lifetime"]),
        (tr("open deals"), str(m["open_deals"]), "", "open_deals", m["open_deals"]),
        (tr("pipeline"), _money(m["pipeline_total"], cur), "", "pipeline_total", m["pipeline_total"]),
        (tr("weighted"), _money(m["pipeline_weighted"], cur), "", "pipeline_weighted", m["pipeline_weighted"]),
        (tr("days since contact"), "–" if m["days_since_contact"] is None else str(m["days_since_contact"]),
         f'<div class="k">{esc(last)}</div>', "days_since_contact",
         "" if m["days_since_contact"] is None else m["days_since_contact"]),
        (tr("next task"), (task["due_local"] or "–") if task else tr("none"),
         f'<div class="k">{esc(task["text"])}</div>' if task else ""),
        (tr("contract end"), m["contract_end"] or "–", ""),
        (tr("health"), f'{h["score"]}/100', "", "health", h["score"]),
    ]
    if m.get("points") is not None:  # a loyalty member (crm points)
        metrics.insert(-1, (tr("loyalty points"), str(m["points"]),
                            f'<div class="k">{esc(tr("tier"))} {esc(m.get("loyalty_tier") or tr("(none)"))}</div>',
                            "points", m["points"]))
    if m.get("referrals"):  # customers whose referred_by names this one
        metrics.insert(-1, (tr("referrals"), str(len(m["referrals"])),
                            f'<div class="k">{esc(", ".join(m["referrals"]))}</div>'))
    out += [f"<h2>{esc(tr('Key metrics'))}</h2>", cards(metrics)]
    for code, amount in (m.get("revenue_other_currencies") or {}).items():
        out.append(f'<p class="note">{esc(format_money(amount, code))} lifetime in {esc(code)}</p>')
    if data["warnings"]:
        out.append(f'<section id="warnings"><h2>{esc(tr("Warnings"))} ({len(data["warnings"])})</h2><ul>'
                   + "".join(f'<li><span class="bad">{esc(w["kind"])}</span>: {esc(w["reason"])}</li>'
                             for w in data["warnings"]) + "</ul></section>")
    else:
        out.append(f'<section id="warnings"><h2>{esc(tr("Warnings"))}</h2><p class="muted">{esc(tr("none"))}</p>'
                   "</section>")
    out.append(_section("Contacts", ["primary", "name", "title", "email", "phone"],
                        [["*" if c.get("primary") else "", str(c.get("name") or ""), str(c.get("title") or ""),
                          str(c.get("email") or ""), str(c.get("phone") or "")] for c in data["contacts"]],
                        tr, key="contacts"))
    out.append(_section("Open deals", ["id", "title", "stage", "probability", "amount", "weighted", "close", "owner"],
                        [[o["id"], o["title"], o["stage"], f'{o["probability"]}%', _money(o["amount"], o["currency"]),
                          _money(o["weighted"], o["currency"]), str(o["close"] or ""), str(o["owner"] or "")]
                         for o in data["opportunities"]], tr,
                        numeric=[False, False, False, True, True, True, False, False], key="deals"))
    out.append(_section("Open tickets", ["id", "title", "priority", "status", "assignee", "opened", "due", "sla"],
                        [[esc(t["id"]), esc(t["title"]), esc(t["priority"]), esc(t["status"]), esc(t["assignee"] or ""),
                          esc(_local(t["opened"])), esc(_local(t["due"])),
                          f'<span class="bad">{esc(t["sla"])}</span>' if t["breached"] else esc(t["sla"])]
                         for t in data["tickets"]], tr, raw=True, key="tickets"))
    out.append(_section("Open tasks", ["due", "id", "owner", "text"],
                        [[esc(t["due_local"] or "") + (f' <span class="bad">{esc(tr("overdue"))}</span>'
                                                       if t["overdue"] else ""),
                          esc(t["id"]), esc(t["owner"] or ""), esc(t["text"])] for t in data["tasks"]],
                        tr, raw=True, key="tasks"))
    out.append(_section("Timeline", ["when", "what", "who", "summary"],
                        [[r["when"], r["what"], str(r["who"] or ""), r["summary"]] for r in data["timeline"]],
                        tr, key="timeline"))
    rows, terms, total = [], [], 0.0
    for c in h["components"]:
        counted = c["score"] is not None and c["weight"] > 0
        rows.append([c["name"], "-" if c["score"] is None else str(c["score"]),
                     f'{c["weight"]:g}' if counted else "-", c["explanation"]])
        if counted:
            terms.append(f'{c["score"]}×{c["weight"]:g}')
            total += c["weight"]
    out.append(f'<section id="health"><h2>{esc(tr("How the health score is made"))}: {h["score"]}/100</h2>'
               + table([tr("component"), tr("score"), tr("weight"), tr("why")], rows, [False, True, True, False]))
    if terms:
        out.append(f'<p class="note">score = ({esc(" + ".join(terms))}) / {total:g} = {h["score"]}; at risk below '
                   f'{h["at_risk_below"]:g} (weights and thresholds: health in crm.yaml)</p>')
    out.append("</section>")
    return shell(f"{data['name']} · {cid}", "\n".join(out), up=up, tr=tr, lang=lang, cmd=f"crm show {cid}",
                 built=built)


# -- lists and boards ------------------------------------------------------------------------------------

SEARCH_JS = """<script>(function(){var q=document.getElementById('q'),rows=document.querySelectorAll('#list tbody tr');
q.addEventListener('input',function(){var t=q.value.trim().toLowerCase();rows.forEach(function(r){
r.style.display=!t||r.textContent.toLowerCase().indexOf(t)>=0?'':'none';});});})();</script>"""


def customers_page(customers: list[dict], *, tr: Tr, lang: str, built: str) -> str:
    """Every customer, by name, each linked to its page; a search box filters the list (with script on)."""
    rows = [[customer_link(c["id"], c["name"], "../"), esc(c.get("tier") or ""), esc(c.get("stage") or ""),
             esc(c.get("owner") or "")] for c in customers]
    body = [f"<h1>{esc(tr('Customers'))} ({len(customers)})</h1>",
            f'<form class="search noprint" onsubmit="return false"><input id="q" type="search" '
            f'placeholder="{esc(tr("Search customers"))}" aria-label="{esc(tr("Search customers"))}"></form>']
    body.append(f'<div id="list">{table([tr("name"), tr("tier"), tr("lifecycle"), tr("owner")], rows, raw=True)}</div>'
                if rows else f'<p class="empty">{esc(tr("No customers yet."))}</p>')
    body.append(SEARCH_JS)
    return shell(tr("Customers"), "\n".join(body), up="../", tr=tr, lang=lang, cmd="crm customer list", built=built)


LIMIT = 100  # rows of a list on the home page and deals per stage on the board; the rest: the crm command


def _more(shown: int, total: int, cmd: str, tr: Tr) -> str:
    if total <= shown:
        return ""
    return (f'<p class="note">{esc(tr("The first"))} {shown:,} {esc(tr("of"))} {total:,}; '
            f'{esc(tr("all of them:"))} {command(cmd)}</p>')


def home_page(headline: list[tuple], agenda: list[list[str]], touch: list[list[str]], *, tr: Tr, lang: str,
              built: str, title: str) -> str:
    body = [f"<h1>{esc(title)}</h1>", f'<p class="period">{esc(tr("as of"))} {esc(built)}</p>',
            f"<h2>{esc(tr('Headline numbers'))}</h2>", cards(headline)]
    body.append(f'<section id="agenda"><h2>{esc(tr("Overdue and coming tasks (7 days)"))} ({len(agenda)})</h2>'
                + (table([tr("due"), tr("customer"), tr("owner"), tr("text")], agenda[:LIMIT], raw=True)
                   if agenda else f'<p class="muted">{esc(tr("Nothing due in the next 7 days."))}</p>')
                + (_more(LIMIT, len(agenda), "crm agenda", tr) or f'<p class="note">{command("crm agenda")}</p>')
                + "</section>")
    body.append(_section("Customers losing touch", ["customer", "owner", "last contact", "days since contact"],
                         touch[:LIMIT], tr, raw=True, numeric=[False, False, False, True], key="losing_touch")
                + _more(LIMIT, len(touch), "crm report weekly --section losing_touch", tr))
    body.append("<h2>" + esc(tr("Reports")) + "</h2><ul>" + "".join(
        f'<li><a href="reports/{r}.html">{esc(tr(t))}</a></li>'
        for r, t in zip(REPORTS, ["Weekly report", "Pipeline and forecast", "Service report", "Customers report"],
                        strict=True)) + "</ul>")
    return shell(title, "\n".join(body), up="", tr=tr, lang=lang, cmd="crm agenda", built=built)


def pipeline_page(stages: list[dict], deals: dict[str, list[dict]], currency: str, names: dict[str, str], *,
                  tr: Tr, lang: str, built: str) -> str:
    """A column per open stage: its count, total and weighted amount, then its deals, largest first."""
    cols = []
    for s in stages:
        items = "".join(
            f'<li><strong>{esc(d["title"])}</strong> · {esc(_money(d["amount"], currency))}<br>'
            f'{customer_link(d["customer"], names.get(d["customer"]), "")}<br><span class="muted">{esc(d["id"])}'
            f'{" · " + esc(d["close"]) if d["close"] else ""}'
            f'{" · " + esc(d["owner"]) if d["owner"] else ""}</span></li>'
            for d in deals.get(s["stage"], [])[:LIMIT])
        more = _more(LIMIT, len(deals.get(s["stage"], [])), f"crm opp list --open --stage {s['stage']}", tr)
        cols.append(f'<section data-stage="{esc(s["stage"])}" data-count="{s["deals"]}" data-amount="{s["amount"]}" '
                    f'data-weighted="{s["weighted"]}"><h2>{esc(s["stage"])} ({s["deals"]})</h2>'
                    f'<p class="note">{esc(_money(s["amount"], currency))} · {esc(tr("weighted"))} '
                    f'{esc(_money(s["weighted"], currency))} · {s["probability"]:g}%</p>'
                    f'<ul>{items}</ul>{more}</section>')
    body = (f"<h1>{esc(tr('Pipeline'))}</h1>"
            f'<p class="period">{esc(currency)}</p><div class="board">{"".join(cols)}</div>')
    return shell(tr("Pipeline"), body, up="", tr=tr, lang=lang, cmd="crm pipeline", built=built)


def tickets_page(rows: list[list[str]], *, tr: Tr, lang: str, built: str) -> str:
    body = [f"<h1>{esc(tr('Open tickets in the queue'))} ({len(rows)})</h1>",
            table([tr("id"), tr("customer"), tr("title"), tr("priority"), tr("status"), tr("assignee"), tr("opened"),
                   tr("due"), tr("sla")], rows, raw=True) if rows else f'<p class="muted">{esc(tr("none"))}</p>']
    return shell(tr("Tickets"), "\n".join(body), up="", tr=tr, lang=lang, cmd="crm ticket list --open", built=built)


def report_page(name: str, body: str, *, tr: Tr, lang: str, built: str, title: str) -> str:
    links = " · ".join(f'<a href="{r}.html">{esc(tr(r))}</a>' for r in REPORTS)
    return shell(title, f'<p class="noprint">{links}</p>' + body, up="../", tr=tr, lang=lang,
                 cmd=f"crm report {name}", built=built)
