"""HTML building blocks shared by report files and the web site: the page shell, its CSS, tables, cards.

One stylesheet, inlined in every page: readable from 390 px (a phone) to a desktop, tables scroll
inside their own box (never the page), print CSS without navigation. No script is needed to read a page.
"""
from __future__ import annotations

import html
import re
from collections.abc import Sequence

_WHEN = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}\S*)?( \w{1,3})?")  # a day or time: kept on one line

CSS = """*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
margin:0;color:#1f2937;background:#fff;line-height:1.45;overflow-wrap:anywhere}
main{max-width:1200px;margin:0 auto;padding:1rem}
nav.top{background:#1e3a8a;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.3rem 1rem}
nav.top a{color:#fff;text-decoration:none;font-weight:600}nav.top a:hover{text-decoration:underline}
h1{font-size:1.5rem;margin:.5rem 0 .2rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
p.period,p.note,.muted{color:#6b7280}p.note{font-size:.85rem}
.scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.9rem;min-width:100%}
th,td{padding:.3rem .6rem;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top;
overflow-wrap:normal;word-break:keep-all}td{min-width:4ch}td.d{white-space:nowrap}
th{background:#f3f4f6;white-space:nowrap}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem;margin:.8rem 0}
.card{border:1px solid #e5e7eb;border-radius:6px;padding:.5rem .7rem}
.card .v{font-size:1.3rem;font-weight:700;font-variant-numeric:tabular-nums}.card .k{font-size:.8rem;color:#6b7280}
.up{color:#047857}.down{color:#b91c1c}.bad{color:#b91c1c;font-weight:600}.ok{color:#047857}
.cmd{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;background:#f3f4f6;padding:.15rem .4rem;
border-radius:4px;display:inline-block;max-width:100%;overflow-x:auto;white-space:nowrap;vertical-align:bottom}
.empty{border:1px dashed #d1d5db;border-radius:6px;padding:1rem;color:#4b5563;background:#f9fafb}
svg.chart{display:block;margin:.6rem 0;height:auto;min-width:420px}
.board{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:.6rem}
.board section{border:1px solid #e5e7eb;border-radius:6px;padding:.5rem;margin:0}
.board h2{margin:0 0 .4rem;font-size:1rem}.board ul{list-style:none;margin:0;padding:0}
.board li{border-top:1px solid #f3f4f6;padding:.3rem 0;font-size:.9rem}
input[type=search]{width:100%;max-width:30rem;font-size:1rem;padding:.4rem;margin:.5rem 0}
footer{margin-top:2rem;border-top:1px solid #e5e7eb;padding-top:.5rem}
@media (max-width:600px){main{padding:.6rem}h1{font-size:1.25rem}table{font-size:.82rem}}
@media print{nav.top,form.search,.noprint{display:none}main{max-width:none;padding:0}
.scroll{overflow:visible}table{font-size:8pt}a{color:inherit;text-decoration:none}
section,svg.chart,tr{break-inside:avoid}body{font-size:10pt}}"""


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text))


def page(title: str, body: str, *, lang: str = "en", nav: str = "", footer: str = "") -> str:
    """A complete page: doctype, charset, viewport, the stylesheet, optional navigation, body, footer."""
    return "\n".join([
        "<!DOCTYPE html>", f'<html lang="{esc(lang)}">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>", "</head>", "<body>", nav, "<main>", body,
        f"<footer>{footer}</footer>" if footer else "", "</main>", "</body>", "</html>", ""])


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] | None = None,
          *, raw: bool = False) -> str:
    """A table in its own horizontal scroll box; ``raw`` cells are HTML already (else escaped)."""
    num = list(numeric) if numeric is not None else [False] * len(headers)
    cell = (lambda v: v) if raw else esc
    def td(v: str, n: bool) -> str:
        if n:
            return f'<td class="n">{cell(v)}</td>'
        return f'<td class="d">{cell(v)}</td>' if _WHEN.fullmatch(str(v)) else f"<td>{cell(v)}</td>"

    out = ['<div class="scroll"><table>', "<thead><tr>"
           + "".join(f'<th class="n">{esc(h)}</th>' if n else f"<th>{esc(h)}</th>"
                     for h, n in zip(headers, num, strict=True)) + "</tr></thead>", "<tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(td(v, n) for v, n in zip(r, num, strict=True)) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def cards(items: Sequence[tuple]) -> str:
    """Headline numbers as a grid of cards: (label, value text, extra HTML under it[, key, value]); a key and
    value become ``data-key``/``data-value`` so a script (or a test) can read the number itself."""
    out = ['<div class="cards">']
    for item in items:
        k, v, extra = item[:3]
        data = f' data-key="{esc(item[3])}" data-value="{esc(item[4])}"' if len(item) > 4 else ""
        out.append(f'<div class="card"{data}><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div>{extra}</div>')
    return "".join(out) + "</div>"


def command(cmd: str) -> str:
    """The ``crm`` command that shows the same thing in a terminal."""
    return f'<code class="cmd">{esc(cmd)}</code>'
