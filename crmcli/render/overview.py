"""The 360-degree overview screen of `crm show`: metrics, contacts, deals, tickets, tasks, timeline, health."""
from __future__ import annotations

from typing import Any

from crmcli.domain import dates
from crmcli.domain.money import format_money
from crmcli.domain.text import first_line
from crmcli.render.fit import dwidth, fit_line, screen_width, wrap
from crmcli.render.labels import translate, value
from crmcli.render.tables import key_values, style, table


def _money(amount: Any, currency: str | None) -> str:
    return format_money(amount, currency)


def _heading(text: str, out: Any) -> None:
    out.write("\n" + style(fit_line(translate(text), screen_width(out)), out, bold=True) + "\n")


def _score_colour(score: int, threshold: float) -> str:
    return "red" if score < threshold else "yellow" if score < 70 else "green"


def _table(rows: list[dict], columns: list[str], headers: list[str], out: Any, drop: tuple[str, ...] = (),
           wrap_cols: tuple[str, ...] = ()) -> None:
    out.write(table(rows, columns, headers, width=screen_width(out), drop=drop, wrap_cols=wrap_cols, out=out) + "\n")


def _section(title: str, rows: list[dict], columns: list[str], headers: list[str], out: Any,
             empty: str = "none", drop: tuple[str, ...] = ()) -> None:

    if not rows:
        out.write("\n" + style(translate(title), out, bold=True) + style(f": {translate(empty)}", out, dim=True)
                  + "\n")
        return
    _heading(title, out)
    _table(rows, columns, headers, out, drop)


def metric_pairs(data: dict) -> list[tuple[str, str]]:
    m = data["metrics"]
    cur = m["currency"]
    pairs = [("revenue", f"{_money(m['revenue_this_year'], cur)} this year, "
                         f"{_money(m['revenue_lifetime'], cur)} lifetime")]
    for code, amount in (m.get("revenue_other_currencies") or {}).items():
        pairs.append(("", f"{_money(amount, code)} lifetime in {code}"))
    deals = m["open_deals"]
    pipeline = (f"{deals} open deal{'' if deals == 1 else 's'}: {_money(m['pipeline_total'], cur)}, "
                f"weighted {_money(m['pipeline_weighted'], cur)}") if deals else "no open deals"
    if m.get("pipeline_other_currencies"):
        pipeline += f" (not counted: deals in {', '.join(m['pipeline_other_currencies'])})"
    pairs.append(("pipeline", pipeline))
    if m["last_contact"]:

        when = dates.format_local(dates.parse_iso(m["last_contact"]))
        days = m["days_since_contact"]
        ago = "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"
        pairs.append(("last contact", f"{when} ({m['last_contact_kind']}, {ago})"))
    else:
        pairs.append(("last contact", "never"))
    task = m["next_task"]
    pairs.append(("next task", f"{task['due_local'] or 'no due date'}  {task['text']}"
                  + ("  (overdue)" if task["overdue"] else "") if task else "none"))
    end = m["contract_end"]
    pairs.append(("contract end", f"{end}{' (ended)' if m['contract_ended'] else ''}" if end else "no contract"))
    if m.get("points") is not None:
        pairs.append(("loyalty", f"{m['points']} points" + (f", tier {m['loyalty_tier']}" if m.get("loyalty_tier")
                                                             else "")))
    if m.get("referrals"):
        n = len(m["referrals"])
        pairs.append(("referrals", f"referred {n} customer{'' if n == 1 else 's'}: {', '.join(m['referrals'])}"))
    h = data["health"]
    pairs.append(("health", f"{h['score']}/100" + (f" (at risk: below {h['at_risk_below']:g})" if h["at_risk"]
                                                    else "")))
    return pairs


def _key_values(pairs: list[tuple[str, str]], out: Any) -> None:
    key_values(pairs, out)


def print_overview(data: dict, out: Any) -> None:
    h = data["health"]
    colour = _score_colour(h["score"], h["at_risk_below"])
    title: list[tuple[str, dict[str, Any]]] = [(data["name"], {"bold": True}), (data["id"], {"dim": True}),
             (f"{translate('health')} {h['score']}/100", {"fg": colour, "bold": True})]
    room = screen_width(out)
    if room is not None and sum(dwidth(t) + 2 for t, _ in title) > room:
        title = [title[0], title[2]]  # the id goes first; the name and the score are what people look for
    out.write("  ".join(style(fit_line(t, room), out, **kw) for t, kw in title) + "\n")
    core = data["core"]
    labels = {"stage": "lifecycle", "touch_every": "cadence"}
    _key_values([(labels.get(k, k), ", ".join(map(str, v)) if isinstance(v, list) else
                  value(str(v)) if k in ("kind", "stage") else str(v)) for k, v in core.items() if k != "name"], out)

    _heading("Key metrics", out)
    _key_values(metric_pairs(data), out)

    contacts = [dict(c, primary="*" if c.get("primary") else "") for c in data["contacts"]]
    _section("Contacts", contacts, ["primary", "name", "title", "email", "phone"],
             ["", "name", "title", "email", "phone"], out, drop=("title",))
    opps = [dict(o, amount=_money(o["amount"], o["currency"]), weighted=_money(o["weighted"], o["currency"]),
                 stage=f"{o['stage']} ({o['probability']}%)") for o in data["opportunities"]]
    _section("Open opportunities", opps, ["id", "title", "stage", "amount", "weighted", "close", "owner"],
             ["id", "title", "stage", "amount", "weighted", "close", "owner"], out, drop=("owner", "weighted"))
    tickets = [dict(t, opened=_local(t["opened"]), due=_local(t["due"]), _fg_sla="red" if t["breached"] else None,
                    _fg_due="red" if t["breached"] else None) for t in data["tickets"]]
    _section("Open tickets", tickets,
             ["id", "title", "priority", "category", "status", "assignee", "opened", "due", "sla"],
             ["id", "title", "priority", "category", "status", "assignee", "opened", "due", "sla"], out,
             drop=("category", "opened", "assignee", "priority"))
    tasks = [dict(t, due_local=(t["due_local"] + (" overdue" if t["overdue"] else "")) if t["due_local"] else "",
                  text=first_line(t["text"], 60), _fg_due_local="red" if t["overdue"] else None)
             for t in data["tasks"]]
    _section("Next tasks", tasks, ["due_local", "id", "owner", "text"], ["due", "task", "owner", "text"], out,
             drop=("owner",))
    timeline = [dict(r, summary=first_line(r["summary"], 70)) for r in data["timeline"]]
    _section(f"Latest events ({len(timeline)})" if timeline else "Latest events", timeline,
             ["when", "what", "who", "summary"], ["when", "what", "who", "summary"], out, drop=("who",))

    if data["warnings"]:
        _heading(f"Warnings ({len(data['warnings'])})", out)
        width = max(len(w["kind"]) for w in data["warnings"])
        room = screen_width(out)
        for w in data["warnings"]:
            reason = [w["reason"]] if room is None else wrap(w["reason"], max(room - width - 4, 20))
            out.write(style("! " + w["kind"].ljust(width), out, fg="red", bold=True) + "  " + reason[0] + "\n")
            out.writelines(" " * (width + 4) + more + "\n" for more in reason[1:])
    else:
        out.write("\n" + style(translate("Warnings"), out, bold=True) + style(": " + translate("none"), out, dim=True)
                  + "\n")
    print_health(h, out)


def print_health(h: dict, out: Any) -> None:
    """The score's components, weights and reasons, and the sum that makes it."""
    rows, terms, total = [], [], 0.0
    for c in h["components"]:
        counted = c["score"] is not None and c["weight"] > 0
        rows.append({"component": c["name"], "score": "-" if c["score"] is None else str(c["score"]),
                     "weight": f"{c['weight']:g}" if counted else "-", "why": c["explanation"]})
        if counted:
            terms.append(f"{c['score']}×{c['weight']:g}")
            total += c["weight"]
    _heading(f"Health {h['score']}/100: how it is made", out)
    _table(rows, ["component", "score", "weight", "why"], ["component", "score", "weight", "why"], out,
           wrap_cols=("why",))
    if terms:
        line = (f"score = ({' + '.join(terms)}) / {total:g} = {h['score']}; at risk below "
                f"{h['at_risk_below']:g} (weights and thresholds: health in crm.yaml)")
        room = screen_width(out)
        out.writelines(part + "\n" for part in ([line] if room is None else wrap(line, room)))


def _local(iso: str | None) -> str:
    if not iso:
        return ""

    return dates.format_local(dates.parse_iso(iso))
