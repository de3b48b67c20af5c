"""``maya demo`` runs the whole evening against the sandbox subprocess and checks each step."""

from __future__ import annotations

import anyio
import pytest

from maya.agent.demo import DemoStep, demo_steps, run_demo


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("sqlite", [False, True])
async def test_the_demo_passes_every_step(sqlite: bool) -> None:
    printed: list[str] = []
    with anyio.fail_after(60):
        code = await run_demo(sqlite=sqlite, out=printed.append)
    text = "\n".join(printed)
    assert code == 0, text
    assert "demo OK" in text and "INSUFFICIENT" not in text
    assert "/b/test_" in text and "[checkout] paid" in text
    assert "payment completed" in text


def test_the_script_covers_a_refusal_a_tip_a_link_and_a_payment() -> None:
    said = [step.say for step in demo_steps()]
    assert any("tip" in s for s in said) and "Check please" in said
    assert sum(1 for step in demo_steps() if step.pay_first) == 1


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_step_that_goes_wrong_fails_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    def wrong(*_: object) -> list[str]:
        return ["the bar is closed"]

    steps = [DemoStep("Good evening!", wrong)]
    monkeypatch.setattr("maya.agent.demo.demo_steps", lambda: steps)
    printed: list[str] = []
    with anyio.fail_after(60):
        code = await run_demo(out=printed.append, quiet=True)
    assert code == 1
    assert printed == ["demo FAILED: step 1 ('Good evening!'): the bar is closed"]
