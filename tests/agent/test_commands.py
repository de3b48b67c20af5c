"""The agent's subcommands as ``maya`` parses and runs them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from maya.agent.commands import register


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maya")
    register(parser.add_subparsers(dest="command"))
    return parser


def test_every_subcommand_is_registered_with_a_function() -> None:
    parser = _parser()
    for argv in (["demo"], ["chat"], ["prompt", "--json"], ["trace", "x.jsonl"]):
        assert callable(parser.parse_args(argv).func)


def test_chat_options() -> None:
    args = _parser().parse_args(["chat", "--session", "abc", "--store", "memory://", "--offline"])
    assert (args.session, args.store, args.offline) == ("abc", "memory://", True)


@pytest.mark.parametrize("budget", ["-1", "0", "nan", "inf", "3601", "soon"])
def test_chat_refuses_a_turn_budget_that_is_not_a_time(
    budget: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args(["chat", "--turn-budget", budget])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert f"--turn-budget: seconds above 0, at most 3600, not {budget!r}" in error


def test_chat_takes_a_turn_budget_in_seconds() -> None:
    assert _parser().parse_args(["chat", "--turn-budget", "2.5"]).turn_budget == 2.5
    assert _parser().parse_args(["chat"]).turn_budget is None  # $MAYA_TURN_BUDGET_S or 30


def test_maya_prompt_json_prints_the_hash(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["prompt", "--json"])
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["sha256"]) == 64 and data["estimated_tokens"] > 0


def test_maya_trace_of_a_missing_file_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parser().parse_args(["trace", str(tmp_path / "none.jsonl")])
    assert args.func(args) == 2
    assert "cannot read" in capsys.readouterr().err


def test_maya_chat_on_empty_input_leaves_cleanly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def end_of_input(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", end_of_input)
    monkeypatch.setenv("MAYA_MCP_CONFIG", "")
    args = _parser().parse_args(["chat", "--store", "memory://"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip().endswith("Good night!")
