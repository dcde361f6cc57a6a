"""The demo is light: it installs no browser, takes a port, keeps its state under var/."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection, Exchange, Queue

ROOT = Path(__file__).resolve().parent.parent


def _demo_apt_packages() -> set[str]:
    """The apt packages setup.sh installs when run without `--test`."""
    text = (ROOT / "scripts" / "setup.sh").read_text()
    base = re.search(r"^APT_PACKAGES=\(([^)]*)\)", text, re.M)
    assert base, "setup.sh declares APT_PACKAGES"
    return set(base.group(1).split())


def test_demo_installs_no_browser_and_tests_do():
    assert not {"chromium", "poppler-utils"} & _demo_apt_packages()
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert re.search(r'FOR_TESTS" = 1 \]\s*&&\s*APT_PACKAGES\+=\([^)]*chromium', setup)
    test = (ROOT / "scripts" / "test.sh").read_text()
    assert "scripts/setup.sh --test" in test
    demo = (ROOT / "scripts" / "demo.sh").read_text()
    assert re.search(r"^scripts/setup.sh$", demo, re.M), "the demo runs setup without the test extras"


def test_demo_takes_a_port_and_refuses_a_bad_one():
    demo = (ROOT / "scripts" / "demo.sh").read_text()
    assert "PORT=${PORT:-8000}" in demo and 'runserver "127.0.0.1:$PORT"' in demo
    # A bad PORT is refused before anything is installed or started.
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        env={**os.environ, "PORT": "80; rm -rf /"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "PORT must be a number" in result.stderr


def test_no_broker_folder_in_the_source_tree():
    tracked = subprocess.run(["git", "ls-files", "control"], cwd=ROOT, capture_output=True, text=True)
    assert tracked.returncode == 0 and tracked.stdout == ""


@pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("filesystem"), reason="filesystem broker only")
def test_filesystem_broker_keeps_its_control_folder_under_var(tmp_path, monkeypatch):
    """Celery's pidbox (worker remote control) declares a fanout exchange; kombu's filesystem
    transport writes its exchange table into `control_folder`, by default ./control in the cwd."""
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    var_dir = Path(settings.VAR_DIR).resolve()
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert Path(options[key]).resolve().is_relative_to(var_dir), key
    broker = tmp_path / "broker"
    options = {**options, **{key: str(broker / key) for key in options if "folder" in key}}
    for key, folder in options.items():
        if "folder" in key:
            Path(folder).mkdir(parents=True, exist_ok=True)
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    with Connection("filesystem://", transport_options=options) as conn:
        queue = Queue("probe", Exchange("probe.pidbox", type="fanout"), channel=conn.default_channel)
        queue.declare()
        with conn.Producer() as producer:
            producer.publish({"ping": 1}, exchange=queue.exchange, declare=[queue])
    assert list(cwd.iterdir()) == []
    assert any((broker / "control_folder").iterdir())
