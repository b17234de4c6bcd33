"""One customer, one health score: `crm show` and `crm report customers` agree on every customer of the sample."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.websample import crm_json, make_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(tmp_path_factory.mktemp("health"))


def test_show_and_customers_report_agree_on_health(sample: Path) -> None:
    customers = crm_json(sample, "customer", "list", "--format", "json")
    report = crm_json(sample, "report", "customers", "--format", "json")
    risk = next(s["rows"] for s in report["sections"] if s["key"] == "churn_risk")
    assert len(risk) < 25  # the section lists every customer at risk or with a warning, none cut off
    listed = {r["customer"]: r for r in risk}
    assert listed and len(customers) == 12
    for c in customers:
        shown = crm_json(sample, "show", c["id"], "--format", "json")
        if shown["core"].get("stage") == "churned":
            continue  # the report leaves churned customers out
        if c["id"] in listed:
            row = listed[c["id"]]
            assert row["health"] == shown["health"]["score"], (c["id"], row, shown["warnings"])
            assert row["why"] == "; ".join(w["reason"] for w in shown["warnings"]) or "low health score", c["id"]
        else:
            assert not shown["health"]["at_risk"] and not shown["warnings"], (c["id"], shown["warnings"])
