"""``maya conversations export-adk``: conversation files become an ADK eval set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maya.cli import main

pytestmark = pytest.mark.slow

CONVERSATIONS = Path(__file__).resolve().parents[1] / "conversations"
FILES = [CONVERSATIONS / "happy_path_with_tip.yaml", CONVERSATIONS / "insufficient_funds.yaml"]


@pytest.fixture
def exported(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> Path:
    """The eval set of two conversations, written by the command.

    capfd, not capsys: the sandbox subprocess needs a real stderr to inherit.
    """
    out = tmp_path / "maya.evalset.json"
    assert main(["conversations", "export-adk", *map(str, FILES), "--out", str(out)]) == 0
    assert "2 eval cases" in capfd.readouterr().err
    return out


def test_each_turn_becomes_an_invocation_with_the_real_reply_and_trajectory(
    exported: Path,
) -> None:
    data = json.loads(exported.read_text("utf-8"))
    [happy, refused] = data["eval_cases"]
    assert (happy["eval_id"], refused["eval_id"]) == ("happy_path_with_tip", "insufficient_funds")
    first = happy["conversation"][0]
    assert first["user_content"]["parts"][0]["text"] == "Two dirty martinis and a beer, please."
    assert "$31.00" in first["final_response"]["parts"][0]["text"]
    uses = first["intermediate_data"]["tool_uses"]
    assert [(u["name"], u["args"]["name"]) for u in uses] == [
        ("order_drink", "Martini"),
        ("order_drink", "Tap Beer"),
    ]
    last = happy["conversation"][-1]["intermediate_data"]["tool_responses"][0]["response"]
    assert last["result"]["payment_status"] == "succeeded"
    assert happy["session_input"]["app_name"] == "maya_bar"
    assert "{{" not in exported.read_text("utf-8")


def test_adks_own_schema_loads_the_eval_set(exported: Path) -> None:
    pytest.importorskip(
        "google.adk",
        reason="google-adk is not installed (pip install -e '.[test,adk]'; CI: .venv-adk)",
    )
    from google.adk.evaluation.eval_set import EvalSet
    from google.adk.evaluation.local_eval_sets_manager import load_eval_set_from_file

    eval_set = EvalSet.model_validate_json(exported.read_text("utf-8"))
    loaded = load_eval_set_from_file(str(exported), "maya_conversations")
    assert loaded == eval_set
    assert [len(case.conversation or []) for case in eval_set.eval_cases] == [4, 2]
    tool_uses = eval_set.eval_cases[0].conversation[0].intermediate_data  # type: ignore[index]
    assert tool_uses is not None


def test_a_failing_or_missing_file_is_refused(tmp_path: Path) -> None:
    # A file that is no conversation is the user's error (2), as for every command; one
    # that plays but misses its expectations fails (1).
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nturns: []\n", "utf-8")
    assert main(["conversations", "export-adk", str(bad)]) == 2
    assert main(["conversations", "export-adk", str(tmp_path / "missing.yaml")]) == 2
    failing = tmp_path / "failing.yaml"
    failing.write_text(
        "name: a wrong expectation\nturns:\n  - user: A water, please.\n    model:\n"
        "      - call: {name: order_drink, args: {name: Water}}\n      - text: Done.\n"
        "    expect: {reply_contains: [nothing like it]}\n",
        "utf-8",
    )
    assert main(["conversations", "export-adk", str(failing)]) == 1
