"""The shell scripts parse, and scripts/run's addresses follow HOST and PORT (scripts/urls.sh)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPTS = ["scripts/run", "scripts/test", "scripts/install", "scripts/urls.sh", ".ci/run"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_parses(script):
    result = subprocess.run(["bash", "-n", ROOT / script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def urls(call: str, **env) -> str:
    """Run a function of scripts/urls.sh in bash; its output."""
    environment = {k: v for k, v in os.environ.items() if k != "BASE_URL"} | env
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source scripts/urls.sh; {call}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:5001"),
        ("localhost", "http://localhost:5001"),
        ("0.0.0.0", "http://127.0.0.1:5001"),  # noqa: S104 - what a wildcard is reached at
        ("::", "http://[::1]:5001"),
        ("::1", "http://[::1]:5001"),
        ("[::1]", "http://[::1]:5001"),
    ],
)
def test_site_url(host, url):
    assert urls(f"site_url '{host}' 5001") == url


def test_base_url_follows_host_and_port(tmp_path):
    no_config = tmp_path / "config.py"
    assert urls(f"run_base_url 127.0.0.1 5001 {no_config}") == "http://127.0.0.1:5001"


def test_base_url_set_in_the_environment_is_kept(tmp_path):
    got = urls(f"run_base_url 127.0.0.1 5001 {tmp_path / 'config.py'}", BASE_URL="https://x.test")
    assert got == "https://x.test"


def test_base_url_set_in_instance_config_is_left_to_it(tmp_path):
    config = tmp_path / "config.py"
    config.write_text('PLATFORM_FEE_PERCENT = 7\nBASE_URL = "https://mine.test"\n')
    assert urls(f"run_base_url 127.0.0.1 5001 {config}") == ""  # nothing exported
    config.write_text('MAIL_FROM = "x <BASE_URL@x.test>"\n')
    assert urls(f"run_base_url 127.0.0.1 5001 {config}") == "http://127.0.0.1:5001"


def test_run_writes_the_fake_address_where_the_config_reads_it():
    from app.config import FAKESTRIPE_URL_FILE

    run = (ROOT / "scripts/run").read_text()
    assert f"fake_url_file=instance/{FAKESTRIPE_URL_FILE}\n" in run
    assert '--available-after "$available_after"' in run
    assert 'available_after="${FAKESTRIPE_AVAILABLE_AFTER:-60}"' in run
