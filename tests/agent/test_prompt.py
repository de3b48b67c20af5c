"""``maya prompt``: the system instruction and declarations the model sees, hashed and sized."""

from __future__ import annotations

import json

from maya.agent.prompt import current_prompt, load_system_instruction, print_prompt, prompt_view


def test_the_system_instruction_carries_mayas_rules() -> None:
    text = load_system_instruction()
    for rule in ("Never state an amount", "exactly as the tool returned it", "simulated"):
        assert rule in text


def test_the_view_hashes_and_sizes_instruction_and_declarations() -> None:
    view = current_prompt()
    names = [d["name"] for d in view.tools[0]["functionDeclarations"]]
    assert "order_drink" in names and "remove_tip" in names
    assert view.chars > len(view.system_instruction)
    assert view.estimated_tokens == -(-view.chars // 4)
    assert view.sha256 == current_prompt().sha256
    assert prompt_view("other", []).sha256 != view.sha256


def test_maya_prompt_json_is_exactly_the_view() -> None:
    printed: list[str] = []
    assert print_prompt(as_json=True, out=printed.append) == 0
    data = json.loads(printed[0])
    assert data == current_prompt().as_json()


def test_maya_prompt_text_shows_hash_and_tokens() -> None:
    printed: list[str] = []
    print_prompt(as_json=False, out=printed.append)
    assert current_prompt().sha256 in printed[0] and "estimated tokens" in printed[0]
