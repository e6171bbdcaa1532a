"""Log in limits under parallel guesses (issue 13.6): each attempt is counted before its
password is checked, so at most the limit is ever checked; and an attacker who uses up every
limit from elsewhere never stops the owner logging in from their usual place.

Real threads, each its own client and request context, so each request has its own
database session and connection (on PostgreSQL and on SQLite in WAL mode)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.accounts import services
from tests.helpers import PASSWORD, Browser, gen_user, parse_forms

GUESSES = 24
WRONG = "wrong password!"


@pytest.fixture
def app(app):
    app.config.update(
        LOGIN_LIMIT_PER_ACCOUNT="5 per minute",
        LOGIN_LIMIT_PER_IP="100 per minute",
        LOGIN_LIMIT_ACCOUNT_WIDE="8 per hour",
        LOGIN_LIMIT_WHILE_ATTACKED="1 per minute",
    )
    return app


@pytest.fixture
def checks(monkeypatch):
    """Every password hash check made, counted across threads."""
    made = []
    lock = threading.Lock()
    real = services.check_password_hash

    def counting(hash_, password):
        with lock:
            made.append(password)
        return real(hash_, password)

    monkeypatch.setattr(services, "check_password_hash", counting)
    return made


def client_at(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def ready_login_form(client) -> dict:
    """The log in form's fields (its CSRF token included), as a browser holds it."""
    forms = parse_forms(client.get("/login").get_data(as_text=True))
    (form,) = [f for f in forms if "email" in f["fields"]]
    return form["fields"]


def guess_at_once(app, ips: list[str], password: str = WRONG) -> list[int]:
    """One wrong guess from each IP's own client, all sent at the same moment."""
    clients = [client_at(app, ip) for ip in ips]
    forms = [ready_login_form(c) for c in clients]
    start = threading.Barrier(len(clients), timeout=30)

    def guess(i: int) -> int:
        data = {**forms[i], "email": "ada@example.com", "password": password}
        start.wait()
        return clients[i].post("/login", data=data).status_code

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(guess, range(len(clients))))


def test_parallel_guesses_from_one_place_check_at_most_the_limit(app, checks):
    gen_user()
    codes = guess_at_once(app, ["203.0.113.66"] * GUESSES)
    assert len(checks) == 5  # the per account and IP limit: the others were never hashed
    assert sorted(codes) == [200] * 5 + [429] * (GUESSES - 5)


def test_parallel_guesses_from_many_places_are_slowed_once_the_account_is_attacked(app, checks):
    gen_user()
    places = [f"198.51.100.{i}" for i in range(GUESSES)]
    first = guess_at_once(app, places)
    # 8 attempts make the account "attacked"; the other 16 places get their one try of the
    # minute, which the first 8 still have and use in the second round; then none is left.
    second = guess_at_once(app, places)
    third = guess_at_once(app, places)
    assert first == [200] * GUESSES
    assert sorted(second) == [200] * 8 + [429] * (GUESSES - 8)
    assert third == [429] * GUESSES
    assert len(checks) == GUESSES + 8  # one check per place per minute, after the first 8
    assert "many failed log ins from elsewhere" in Browser(client_at(app, places[0])).login(
        password="another guess"
    ).get_data(as_text=True)


def test_the_owner_on_their_known_device_logs_in_while_attackers_use_up_every_limit(app, checks):
    gen_user()
    owner = client_at(app, "192.0.2.10")
    assert Browser(owner).login().status_code == 302  # from now on a known device
    Browser(owner).logout()
    attacker_ips = ["192.0.2.10"] * 8 + [f"198.51.100.{i}" for i in range(16)]
    guess_at_once(app, attacker_ips)  # the owner's own IP and many others, all exhausted
    assert guess_at_once(app, ["192.0.2.10"]) == [429]  # a stranger at the owner's IP waits

    response = Browser(owner).login()
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert owner.get("/my/pledges").status_code == 200


def test_the_owner_from_another_place_logs_in_after_one_place_used_up_its_limit(app):
    gen_user()
    guess_at_once(app, ["203.0.113.66"] * 10)
    assert guess_at_once(app, ["203.0.113.66"], password=PASSWORD) == [429]
    owner = client_at(app, "192.0.2.77")
    assert Browser(owner).login().status_code == 302


def test_while_attacked_a_new_place_gets_one_try_a_minute_with_a_clear_message(app):
    gen_user()
    guess_at_once(app, [f"198.51.100.{i}" for i in range(8)])  # the account-wide limit
    newcomer = Browser(client_at(app, "192.0.2.200"))
    first = newcomer.login(password="a typo in it")
    assert first.status_code == 200
    assert "Wrong email or password." in first.get_data(as_text=True)
    second = newcomer.login()
    assert second.status_code == 429
    assert "many failed log ins from elsewhere" in second.get_data(as_text=True)


def test_the_race_also_holds_on_postgresql_with_separate_connections(app, checks):
    """The same race as the first test; run on PostgreSQL by ``TEST_DATABASE_URL``."""
    gen_user()
    gen_user("bob@example.com", "Bob")
    codes = guess_at_once(app, ["203.0.113.9"] * GUESSES)
    assert len(checks) == 5
    assert codes.count(429) == GUESSES - 5
    assert Browser(client_at(app, "203.0.113.9")).login("bob@example.com").status_code == 302
