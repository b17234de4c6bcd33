"""Reports: pure functions from DataFrames (``crmcli.analysis.frames``) to a ``Report``.

A report never reads files or prints; ``crmcli.render.reports`` renders it as a terminal table, Markdown,
CSV, JSON, HTML (inline SVG charts) or an Excel workbook (native charts). pandas is imported only by the
report modules themselves, never by this package's ``__init__``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NAMES = ["weekly", "pipeline", "service", "customers", "needs"]

# column formats understood by the renderers
MONEY, INT, PCT, NUM, DATE, TIME, HOURS, DAYS = "money", "int", "pct", "num", "date", "time", "hours", "days"


@dataclass
class Chart:
    """A simple chart of one section: ``kind`` bar, line or funnel; ``label`` column, ``values`` columns."""

    kind: str
    label: str
    values: list[str]
    title: str = ""


@dataclass
class Section:
    key: str
    title: str
    frame: Any  # pandas.DataFrame
    chart: Chart | None = None
    formats: dict[str, str] = field(default_factory=dict)
    note: str = ""


@dataclass
class Report:
    name: str
    title: str
    period: str
    generated: str
    sections: list[Section] = field(default_factory=list)
    currency: str = ""
    notes: list[str] = field(default_factory=list)
    # headline numbers shown first: {"key", "label", "value", "format", "previous"} (previous: the period before)
    headline: list[dict] = field(default_factory=list)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def lead(self, key: str, label: str, value: Any, fmt: str, previous: Any = None) -> None:
        """Add a headline number (``previous``: the same number for the period before, when there is one)."""
        self.headline.append({"key": key, "label": label, "value": value, "format": fmt, "previous": previous})

    def add(self, key: str, title: str, frame: Any, chart: Chart | None = None, note: str = "",
            **formats: str) -> Section:
        s = Section(key, title, frame.reset_index(drop=True), chart, dict(formats), note)
        self.sections.append(s)
        return s
