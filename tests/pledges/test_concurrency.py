"""Limited tiers are never oversold, however many backers pledge at once (PostgreSQL)."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, insert, select

from app import clock, create_app
from app.accounts.models import User
from app.extensions import db
from app.pledges import services
from app.pledges.domain import PledgeRefused
from app.pledges.models import Pledge
from app.rewards.models import RewardTier
from tests.helpers import gen_project, gen_user

ATTEMPTS = 200
LIMIT = 50


@pytest.mark.postgres
def test_two_hundred_backers_race_for_fifty_places(app, test_config, instance_dir):
    creator = gen_user("creator@example.com", "Cora")
    project = gen_project(creator, "live")
    tier = project.tiers[0]
    tier.quantity_limit = LIMIT
    db.session.execute(
        insert(User),
        [
            {
                "email": f"b{i}@example.com",
                "display_name": f"B{i}",
                "password_hash": "x",
                "role": "user",
                "created_at": clock.now(),
            }
            for i in range(ATTEMPTS)
        ],
    )
    db.session.commit()
    backer_ids = list(db.session.scalars(select(User.id).where(User.email.like("b%@example.com"))))
    project_id, tier_id = project.id, tier.id

    racing = create_app(
        {**test_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 40, "max_overflow": 0}},
        instance_path=instance_dir,
    )
    start = threading.Barrier(40, timeout=30)

    def attempt(backer_id: int) -> str:
        with racing.app_context():
            with contextlib.suppress(threading.BrokenBarrierError):
                start.wait(timeout=10)
            backer = db.session.get(User, backer_id)
            target = db.session.get(type(project), project_id)
            try:
                services.start_pledge(backer, target, services.Terms(tier_id, 2000), clock.now())
                db.session.commit()
                return "sold"
            except PledgeRefused:
                db.session.rollback()
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(attempt, backer_ids))
    with racing.app_context():
        db.engine.dispose()

    assert results.count("sold") == LIMIT
    assert results.count("refused") == ATTEMPTS - LIMIT
    db.session.expire_all()
    assert db.session.get(RewardTier, tier_id).claimed == LIMIT
    assert (
        db.session.scalar(select(func.count()).select_from(Pledge).where(Pledge.tier_id == tier_id))
        == LIMIT
    )
