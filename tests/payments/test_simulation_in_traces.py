"""A tab settled by a simulated payment says so in the trace, not only in the reply."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from maya.conversations import load_conversation, run_conversation

pytestmark = pytest.mark.slow

CONVERSATION = Path(__file__).parents[1] / "conversations" / "payments_simulated_is_not_money.yaml"


def test_the_trace_shows_the_simulated_settlement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAYA_FORBID_REAL_MODEL", "1")
    report = anyio.run(lambda: run_conversation(load_conversation(CONVERSATION), workdir=tmp_path))
    assert report.trace_path is not None
    events = [json.loads(line) for line in report.trace_path.read_text().splitlines()]
    checks = [
        e
        for e in events
        if e.get("type") == "tool_call" and e.get("name") == "check_payment_status"
    ]
    assert checks, "the status check was traced"
    first = json.dumps(checks[0])
    assert '"is_simulated": true' in first
    assert "no money moves" in first
    settled = [
        e
        for e in events
        if e.get("type") == "state_change" and e.get("operation") == "settle_payment"
    ]
    assert settled and '"is_simulated": true' in json.dumps(settled[0])
    assert report.final_state.current_payment is not None
    assert report.final_state.current_payment.is_simulated
