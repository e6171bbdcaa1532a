"""Settings come from defaults, then instance/config.py, then the environment."""

import os
import stat

import pytest

from app import create_app


@pytest.fixture
def instance(tmp_path):
    return tmp_path / "instance"


def make(instance, **test_config):
    return create_app(test_config or None, instance_path=str(instance))


def test_defaults(instance, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PLATFORM_FEE_PERCENT", raising=False)
    app = make(instance)
    assert app.config["PLATFORM_FEE_PERCENT"] == 5
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance}/crowdfund.sqlite3"


def test_instance_file_overrides_defaults_and_environment_overrides_both(instance, monkeypatch):
    instance.mkdir()
    (instance / "config.py").write_text("PLATFORM_FEE_PERCENT = 7\nPASSWORD_MIN_LENGTH = 12\n")
    monkeypatch.delenv("PASSWORD_MIN_LENGTH", raising=False)
    monkeypatch.setenv("PLATFORM_FEE_PERCENT", "9")
    app = make(instance)
    assert app.config["PASSWORD_MIN_LENGTH"] == 12  # from the instance file
    assert app.config["PLATFORM_FEE_PERCENT"] == 9  # the environment wins


def test_environment_values_are_parsed_by_type(instance, monkeypatch):
    monkeypatch.setenv("HTTPS", "yes")
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    app = make(instance)
    assert app.config["HTTPS"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["RATELIMIT_ENABLED"] is False


def test_bad_environment_value_is_a_clear_error(instance, monkeypatch):
    monkeypatch.setenv("PLATFORM_FEE_PERCENT", "five")
    with pytest.raises(ValueError, match="PLATFORM_FEE_PERCENT must be a whole number"):
        make(instance)


def test_postgres_url_uses_psycopg(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/crowdfund")
    app = make(instance)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://postgres@127.0.0.1:5432/crowdfund"
    )


def test_secret_key_is_generated_once_into_the_instance_folder(instance, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = make(instance).config["SECRET_KEY"]
    second = make(instance).config["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert first == second == key_file.read_text()
    assert len(first) == 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_secret_key_from_environment_wins(instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert make(instance).config["SECRET_KEY"] == "from-the-environment"
    assert not (instance / "secret_key").exists()


def test_stripe_js_comes_from_the_fake_server_offline(instance, monkeypatch):
    for key in ("STRIPE_SECRET_KEY", "STRIPE_JS_URL", "STRIPE_API_BASE"):
        monkeypatch.delenv(key, raising=False)
    assert make(instance).config["STRIPE_JS_URL"] == "http://127.0.0.1:8420/js.stripe.com/v3/"
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_123")
    assert make(instance).config["STRIPE_JS_URL"] == "https://js.stripe.com/v3/"


def test_readme_lists_every_setting():
    from pathlib import Path

    from app.config import DEFAULTS

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [key for key in DEFAULTS if f"`{key}`" not in readme]
    assert not missing, f"settings missing from the README's table: {missing}"
