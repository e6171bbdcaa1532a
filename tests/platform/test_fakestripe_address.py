"""instance/fakestripe.url: where scripts/run's fake Stripe listens, for `flask` in any shell.

scripts/run starts the fake on FAKESTRIPE_PORT and writes its address there; offline, and
unless the environment names STRIPE_API_BASE, every app built on that instance folder uses it.
"""

import pytest

from app import create_app

FAKE = "http://127.0.0.1:8533"


@pytest.fixture
def instance(tmp_path, monkeypatch):
    for key in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_JS_URL"):
        monkeypatch.delenv(key, raising=False)
    folder = tmp_path / "instance"
    folder.mkdir()
    return folder


def config(instance):
    return create_app(instance_path=str(instance)).config


def test_without_the_file_the_default_address(instance):
    assert config(instance)["STRIPE_API_BASE"] == "http://127.0.0.1:8420"


def test_the_file_names_the_fake_and_stripe_js_follows(instance):
    (instance / "fakestripe.url").write_text(FAKE + "\n")
    cfg = config(instance)
    assert cfg["STRIPE_API_BASE"] == FAKE
    assert cfg["STRIPE_JS_URL"] == f"{FAKE}/js.stripe.com/v3/"


def test_the_file_wins_over_instance_config_and_the_environment_over_both(instance, monkeypatch):
    (instance / "config.py").write_text('STRIPE_API_BASE = "http://127.0.0.1:9999"\n')
    (instance / "fakestripe.url").write_text(FAKE)
    assert config(instance)["STRIPE_API_BASE"] == FAKE  # as the site scripts/run started
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:7777")
    assert config(instance)["STRIPE_API_BASE"] == "http://127.0.0.1:7777"


@pytest.mark.parametrize("where", ["environment", "instance config"])
def test_a_real_key_ignores_the_file(instance, monkeypatch, where):
    (instance / "fakestripe.url").write_text(FAKE)
    if where == "environment":
        monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_real")
    else:
        (instance / "config.py").write_text('STRIPE_SECRET_KEY = "sk_test_real"\n')
    cfg = config(instance)
    assert cfg["STRIPE_API_BASE"] == "http://127.0.0.1:8420"
    assert cfg["STRIPE_JS_URL"] == "https://js.stripe.com/v3/"


def test_an_empty_file_is_no_address(instance):
    (instance / "fakestripe.url").write_text("\n")
    assert config(instance)["STRIPE_API_BASE"] == "http://127.0.0.1:8420"


def test_a_file_that_is_no_address_is_a_clear_error(instance):
    (instance / "fakestripe.url").write_text("8533\n")
    with pytest.raises(ValueError, match=r"fakestripe\.url must hold the fake Stripe's address"):
        config(instance)
