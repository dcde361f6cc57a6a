"""bpmnlint's recommended rules (Node, from npm: scripts/bpmnlint.cjs) on a draft's diagram.

Their findings are style and modelling hints, so they come back as warnings: they are shown on the
diagram but never block publishing (our own lint and the parser decide that). Skipped when Node or
the npm packages are not installed (`scripts/build_static.sh` installs them).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

from processes.engine import Problem

logger = logging.getLogger(__name__)
SCRIPT = Path(settings.BASE_DIR) / "scripts" / "bpmnlint.cjs"


def bpmnlint_available() -> bool:
    return (
        settings.CUSTFLOW["BPMNLINT"]["ENABLED"]
        and shutil.which("node") is not None
        and SCRIPT.is_file()
        and (Path(settings.BASE_DIR) / "node_modules" / "bpmnlint").is_dir()
    )


def bpmnlint_problems(data: bytes) -> list[Problem]:
    if not bpmnlint_available():
        return []
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, the diagram goes through stdin
            ["node", str(SCRIPT)],
            input=data,
            capture_output=True,
            timeout=settings.CUSTFLOW["BPMNLINT"]["TIMEOUT"],
            cwd=settings.BASE_DIR,
            check=False,
        )
        found = json.loads(done.stdout or b"[]")
    except (subprocess.TimeoutExpired, ValueError, OSError) as exc:
        logger.warning("bpmnlint did not run: %s", exc)
        return []
    return [
        Problem(f"bpmnlint {item.get('rule')}: {item.get('message')}", item.get("id") or None, severity="warning")
        for item in found
        if isinstance(item, dict)
    ]
