"""An add-on's last items go to exactly as many backers as there are items, however many ask
at once (PostgreSQL, real threads, one connection each): starting pledges and changing held
ones race for the same rows."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, insert, select

from app import clock, create_app
from app.accounts.models import User
from app.addons import services as addons
from app.addons.models import Addon, PledgeAddon
from app.extensions import db
from app.pledges import services
from app.pledges.domain import PledgeRefused
from app.pledges.models import Pledge
from app.projects.models import Project
from tests.helpers import gen_project, gen_user

THREADS = 24
LIMIT = 7


def backers(count: int) -> list[int]:
    db.session.execute(
        insert(User),
        [
            {"email": f"b{i}@example.com", "display_name": f"B{i}", "password_hash": "x",
             "role": "user", "created_at": clock.now()}
            for i in range(count)
        ],
    )  # fmt: skip
    db.session.commit()
    return list(db.session.scalars(select(User.id).where(User.email.like("b%@example.com"))))


@pytest.mark.postgres
def test_the_last_items_of_an_add_on_go_to_exactly_as_many_backers(app, test_config, instance_dir):
    project = gen_project(gen_user("creator@example.com", "Cora"), "live")
    addon = addons.add_addon(
        project, {"title": "Playmat", "description": "", "price": 2000, "quantity_limit": LIMIT}
    )
    db.session.commit()
    ids = backers(THREADS)
    project_id, tier_id, addon_id = project.id, project.tiers[0].id, addon.id
    racing = create_app(
        {**test_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS, "max_overflow": 0}},
        instance_path=instance_dir,
    )
    start = threading.Barrier(THREADS, timeout=30)

    def attempt(backer_id: int) -> str:
        with racing.app_context():
            with contextlib.suppress(threading.BrokenBarrierError):
                start.wait(timeout=10)
            backer = db.session.get(User, backer_id)
            target = db.session.get(Project, project_id)
            terms = services.Terms(tier_id, 1000, addons=((addon_id, 1),))
            try:
                services.start_pledge(backer, target, terms, clock.now())
                db.session.commit()
                return "sold"
            except PledgeRefused:
                db.session.rollback()
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(attempt, ids))
    with racing.app_context():
        db.engine.dispose()

    assert results.count("sold") == LIMIT
    assert results.count("refused") == THREADS - LIMIT
    db.session.expire_all()
    assert db.session.get(Addon, addon_id).claimed == LIMIT
    held_items = select(func.sum(PledgeAddon.quantity)).where(PledgeAddon.addon_id == addon_id)
    assert db.session.scalar(held_items) == LIMIT
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == LIMIT
