"""The backers' CSV: columns, headers, streaming in batches, and no formulas for spreadsheets."""

import csv
import io
from datetime import UTC

from sqlalchemy import select

from app.extensions import db
from app.pledges.models import Pledge
from app.projects import services as projects
from app.statements import services
from tests.helpers import gen_tier
from tests.helpers.settling import settle
from tests.helpers.statements import pledge

HEADER = [
    "pledge_id",
    "backer_name",
    "backer_email",
    "tier",
    "amount",
    "add_ons",
    "add_ons_amount",
    "shipping_fee",
    "shipping_country",
    "total",
    "currency",
    "status",
    "pledged_at",
]


def download(browser, project):
    response = browser.client.get(f"/projects/{project.id}/statement/backers.csv")
    assert response.status_code == 200, response.status_code
    return response


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def utc_iso(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_paid_out_project_lists_its_backers_for_fulfilment(app, paid_out, owner_browser):
    response = download(owner_browser, paid_out)
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="project-{paid_out.id}-backers.csv"'
    )
    assert "no-store" in response.headers["Cache-Control"]
    header, *rows = rows_of(response)
    assert header == HEADER
    pledges = list(db.session.scalars(select(Pledge).order_by(Pledge.id)))
    assert [row[0] for row in rows] == [str(p.id) for p in pledges]
    assert [row[1:12] for row in rows] == [
        ["Bea", "bea@example.com", "Tier 1", "400.00", "", "0.00", "0.00", "", "400.00", "USD",
         "collected"],
        ["Cy", "cy@example.com", "Lamp", "350.50", "", "0.00", "15.00", "DE", "365.50", "USD",
         "collected"],
        ["Di", "di@example.com", "Tier 1", "300.00", "", "0.00", "0.00", "", "300.00", "USD",
         "collected"],
    ]  # fmt: skip
    assert [row[12] for row in rows] == [utc_iso(p.created_at) for p in pledges]


def test_failed_project_lists_every_pledge_with_its_status(app, failed, owner_browser):
    header, *rows = rows_of(download(owner_browser, failed))
    assert header == HEADER
    assert [(row[1], row[9], row[11]) for row in rows] == [
        ("Bea", "100.00", "refunded"),
        ("Cy", "250.00", "refunded"),
        ("Di", "10.01", "refunded"),
    ]


def test_streamed_in_batches(app, failed, owner_browser, monkeypatch):
    monkeypatch.setattr(services, "CSV_BATCH", 2)
    response = download(owner_browser, failed)
    chunks = list(response.response)
    assert len(chunks) == 3  # the header, then two batches of rows
    assert chunks[0].decode().split("\r\n")[0] == ",".join(HEADER)
    assert chunks[1].decode().count("\r\n") == 2 and chunks[2].decode().count("\r\n") == 1


def test_an_abandoned_download_closes_cleanly(app, failed, owner_browser):
    response = owner_browser.client.get(f"/projects/{failed.id}/statement/backers.csv")
    iterator = iter(response.response)
    next(iterator)  # the header
    next(iterator)  # rows: the database is being read
    response.close()  # the client went away


def test_cells_that_spreadsheets_run_as_formulas_are_quoted(
    app, creator, project, stripe_fake, owner_browser, runner
):
    tier = gen_tier(project, title="@SUM(1+1)", minimum=500)
    db.session.commit()
    pledge(
        app, stripe_fake, project, "-eve@example.com", '=HYPERLINK("http://x.test","a")', "5", tier
    )
    pledge(app, stripe_fake, project, "max@example.com", "+cmd|' /C calc'!A0", "6", tier)
    pledge(app, stripe_fake, project, "kim@example.com", "Kim - plain", "7", tier)
    projects.cancel(project, creator, "Factory closed.")
    db.session.commit()
    settle(runner)
    _, *rows = rows_of(download(owner_browser, project))
    names = [row[1] for row in rows]
    assert names == ['\'=HYPERLINK("http://x.test","a")', "'+cmd|' /C calc'!A0", "Kim - plain"]
    assert rows[0][2] == "'-eve@example.com"
    assert {row[3] for row in rows} == {"'@SUM(1+1)"}
    assert {row[11] for row in rows} == {"refunded"}


def test_safe_cell():
    for raw in ("=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"):
        assert services.safe_cell(raw) == "'" + raw
    for raw in ("plain", "1-2", "a=b", "", None, 12):
        assert services.safe_cell(raw) == ("" if raw is None else str(raw))
