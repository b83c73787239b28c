"""JupyterLab in this clone's .venv is quiet: `make setup` switches off the "get notified about
official Jupyter news?" pop-up (plugin @jupyterlab/apputils-extension:announcements) by an
override inside .venv, so a new clone's `make lab` does not ask. (.ci/check-lab checks the
page itself in a real browser.)"""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = ROOT / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
NOTIFICATION = "@jupyterlab/apputils-extension:notification"


@pytest.mark.skipif(not (ROOT / ".venv").is_dir(), reason="no .venv: run make setup")
def test_the_venv_never_asks_about_jupyter_news():
    assert OVERRIDES.is_file(), f"no {OVERRIDES.relative_to(ROOT)}: run make setup"
    settings = json.loads(OVERRIDES.read_text()).get(NOTIFICATION, {})
    # "none" (the default) asks with the pop-up; "false" never fetches and never asks
    assert settings.get("fetchNews") == "false", (NOTIFICATION, settings)
    assert settings.get("checkForUpdates") is False, (NOTIFICATION, settings)
