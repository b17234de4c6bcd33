"""The web site and the HTML reports in a real browser (headless Chromium) at 390 px (a phone) and 1280 px.

Nothing may overflow the page sideways (tables scroll inside their own box), the phone viewport must be the
device's width (the viewport meta works), and every chart must have its axis title and tick labels.
Screenshots are saved under build/browser/ for a person to look at. `make test-browser` runs only these;
`make test` runs them too. Skipped, saying why, only where no Chromium is installed (`make test` installs it as root).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.chromium import Browser, chromium
from tests.websample import ROOT, crm, make_sample

EXE = chromium()
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(EXE is None, reason="no Chromium: apt-get install chromium (make test does as root)")]
SHOTS = ROOT / "build" / "browser"
WIDTHS = [390, 1280]
PROBE = """(() => {
  const charts = [...document.querySelectorAll('svg.chart')].map(s => ({
    axis: [...s.querySelectorAll('.axis-label')].map(t => t.textContent),
    ticks: s.querySelectorAll('.tick').length, legend: s.querySelectorAll('.legend text').length}));
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth, charts: charts,
          title: document.title};
})()"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("browser")
    root = make_sample(tmp)
    out = tmp / "public"
    crm(root, "site", "build", "-o", str(out))
    chinese = out / "customers" / "shen-zhen-shi-ji-shi-xie-zuo-ke-945d.html"
    assert "深圳市基石协作科技有限公司" in chinese.read_text(encoding="utf-8")
    found = {"site-home": out / "index.html", "site-customer-zh": chinese, "site-pipeline": out / "pipeline.html",
             "site-weekly": out / "reports" / "weekly.html"}
    for name in ("weekly", "pipeline", "service", "customers"):
        path = tmp / "reports" / f"{name}.html"
        crm(root, "report", name, "-o", str(path))
        found[f"report-{name}"] = path
    return found


@pytest.fixture(scope="module")
def browser() -> Browser:
    assert EXE is not None
    b = Browser(EXE)
    yield b
    b.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["site-home", "site-customer-zh", "site-pipeline", "site-weekly", "report-weekly",
                                  "report-pipeline", "report-service", "report-customers"])
def test_page_fits_and_charts_have_axes(pages: dict[str, Path], browser: Browser, name: str, width: int) -> None:
    shot = SHOTS / f"{name}-{width}.png"
    seen = browser.look(pages[name].as_uri(), width, PROBE, screenshot=shot)
    assert seen["innerWidth"] == width, seen  # the viewport meta makes a phone lay out at its own width
    assert seen["scrollWidth"] <= seen["innerWidth"], f"{name} overflows sideways at {width}px: {seen}"
    if name in ("site-weekly", "report-weekly", "report-pipeline", "report-customers", "report-service"):
        assert seen["charts"], f"{name}: no chart"
    for chart in seen["charts"]:
        assert chart["axis"] and all(a.strip() for a in chart["axis"]), (name, chart)
        assert chart["ticks"] >= 2 and chart["legend"] >= 1, (name, chart)
    assert shot.stat().st_size > 5000
