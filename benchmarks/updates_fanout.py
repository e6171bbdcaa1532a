"""Publish an update to a project with N backers and time its one-statement outbox fan-out.

    .venv/bin/python -m benchmarks.updates_fanout --backers 20000
    .venv/bin/python -m benchmarks.updates_fanout --backers 200000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

The project and its N held pledges are bulk-loaded as in ``benchmarks.settlement``. Then, in
the same run: the real ``updates.publish`` (numbering under the project's lock, and the mail
to every backer in one ``INSERT ... SELECT`` that skips keys already there and those who opted
out), the same fan-out again (a crash's replay: it must add nothing), and as the reference a
bare ``INSERT ... SELECT`` of the same rows (no opt-out filter, no dedup, no conflict clause).
With a PostgreSQL URL a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from sqlalchemy import JSON, BigInteger, Integer, String, cast, delete, func, literal, null, select
from sqlalchemy import insert as sql_insert

from app import create_app
from app.accounts.models import User
from app.extensions import db
from app.notifications import updates as update_mail
from app.notifications.models import Outbox
from app.notifications.services import COLUMNS, Kind, _constants
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project
from benchmarks.settlement import scratch_database, seed


def outbox_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Outbox))


def timed(step) -> float:
    started = time.perf_counter()
    step()
    db.session.commit()
    return time.perf_counter() - started


def reference(project_id: int) -> None:
    """The same rows, written by the plainest INSERT ... SELECT."""
    k, status, attempts, next_at, created = _constants(Kind.UPDATE_PUBLISHED)
    rows = (
        select(
            literal("ref:", String) + cast(User.id, String),
            k,
            User.id,
            User.email,
            User.display_name,
            literal(project_id),
            cast(null(), Integer),
            cast(null(), BigInteger),
            cast(null(), String),
            status,
            attempts,
            next_at,
            created,
            literal({"update_id": 0}, JSON),
        )
        .join(Pledge, Pledge.backer_id == User.id)
        .where(Pledge.project_id == project_id, Pledge.status == PledgeStatus.HELD)
    )
    db.session.execute(sql_insert(Outbox).from_select((*COLUMNS, "data"), rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backers", type=int, default=200_000)
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()

    url, drop = scratch_database(args.database_url)
    try:
        app = create_app(
            {"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark"},
            instance_path=tempfile.mkdtemp(),
        )
        with app.app_context():
            from flask_migrate import upgrade

            from app.updates import services as updates

            upgrade()
            started = time.perf_counter()
            project_id = seed(args.backers)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            seeded = time.perf_counter() - started
            project = db.session.get(Project, project_id)
            published = []
            fanout = timed(
                lambda: published.append(
                    updates.publish(project, project.owner_id, "News", "Body.", False)
                )
            )
            written = outbox_rows()
            update_id = published[0].id
            replay = timed(lambda: update_mail.update_published(update_id, project_id, False))
            replayed = outbox_rows() - written
            db.session.execute(delete(Outbox))
            db.session.commit()
            bare = timed(lambda: reference(project_id))
            referenced = outbox_rows()
        print(f"database          {url.split(':')[0]}")
        print(f"backers           {args.backers} (seeded in {seeded:.1f} s)")
        print(f"publish           {written} messages in {fanout:.2f} s")
        print(f"replay            {replayed} messages added in {replay:.2f} s (must be 0)")
        print(f"reference         {referenced} rows of a bare INSERT ... SELECT in {bare:.2f} s")
        print(f"ratio             {fanout / bare:.2f}x the reference")
        assert written == referenced == args.backers and replayed == 0
    finally:
        drop()


if __name__ == "__main__":
    main()
