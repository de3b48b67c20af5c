"""No secret at any verbosity: ``maya -vv`` with malformed ``mcp.json`` shapes and a libpq
store string, run as real processes, their whole output scanned for the key and password.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from maya.redact import RedactingFilter, redacted_traceback

pytestmark = pytest.mark.slow

KEY = "sk_test_51QwErTyUiOpAsDfGhJkLzXcVbNm0123456789abcdefghijKLMNOPqrstuv9876"
TAIL = KEY[-16:]  # pydantic shows about 20 characters from each end of a long value
PASSWORD = "Pw9-sEcReT-4242"

SHAPES: dict[str, dict[str, object]] = {
    "args as a string": {"command": "npx", "args": f"--api-key={KEY}"},
    "env value as a list": {"command": "npx", "args": ["x"], "env": {"STRIPE_SECRET_KEY": [KEY]}},
    "header value as a list": {
        "url": "https://mcp.stripe.com",
        "headers": {"Authorization": [f"Bearer {KEY}"]},
    },
    "env as a list": {"command": "npx", "env": [f"STRIPE_SECRET_KEY={KEY}"]},
}


def _maya(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MAYA_", "STRIPE_")) and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    }
    environ.update(
        MAYA_FORBID_REAL_MODEL="1",
        MAYA_SERVER_SECRET_FILE=str(tmp_path / "server-secret"),
        MAYA_SANDBOX_DB=str(tmp_path / "sandbox.sqlite3"),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "maya.cli", "-vv", *argv],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_malformed_mcp_json_shows_no_key_at_vv(tmp_path: Path, shape: str) -> None:
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"stripe": SHAPES[shape]}}))
    done = _maya(tmp_path, "serve", "--port", "0", "--store", "memory://")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "mcp.json" in output and "mcpServers.stripe" in output
    assert KEY not in output and TAIL not in output and KEY[:24] not in output


@pytest.mark.parametrize(
    "store",
    [
        f"host=127.0.0.1 port=1 password={PASSWORD} dbname=x connect_timeout=1",
        f"host=127.0.0.1 password='{PASSWORD}",  # unterminated quote: refused
        f"postgresql://u:{PASSWORD}@[bad/db",
    ],
)
def test_a_libpq_store_string_is_postgresql_never_a_file(tmp_path: Path, store: str) -> None:
    before = set(os.listdir(tmp_path))
    done = _maya(tmp_path, "state", "--store", store, "show", "s1")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert PASSWORD not in output
    assert "Traceback" in output or "maya state show:" in output
    assert output.strip().splitlines()[-1].startswith("maya state show: ")
    made = set(os.listdir(tmp_path)) - before - {"server-secret"}
    assert made == set(), made  # no file named after the string (and its password)


def test_log_records_and_tracebacks_pass_through_the_redactor() -> None:
    import logging

    record = logging.LogRecord(
        "maya", logging.DEBUG, __file__, 1, "connecting with %s", (f"--api-key={KEY}",), None
    )
    try:
        raise ValueError(f"bad postgresql://u:{PASSWORD}@host/db and {KEY}")
    except ValueError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
        text = redacted_traceback(exc)
    assert RedactingFilter().filter(record)
    shown = record.getMessage() + (record.exc_text or "")
    for output in (shown, text):
        assert KEY not in output and PASSWORD not in output
        assert "sk_test_***" in output


def test_a_serve_worker_masks_secrets_in_its_own_logs() -> None:
    """A ``maya serve`` worker sets up its logging itself (``maya.cli`` does not run in
    it): its records and tracebacks pass through the redactor as the parent's do."""
    script = (
        "import logging\n"
        "from maya.server.workers import worker_logging\n"
        "worker_logging()\n"
        f"logging.getLogger('maya.payments').warning('server said --api-key={KEY}')\n"
        "try:\n"
        f"    raise ValueError('postgresql://u:{PASSWORD}@h/db')\n"
        "except ValueError:\n"
        "    logging.getLogger('maya.server').exception('store failed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "--api-key=sk_test_***" in done.stderr and "store failed" in done.stderr
    assert KEY not in done.stderr and PASSWORD not in done.stderr
