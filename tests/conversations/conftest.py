"""Each ``*.yaml`` here is a conversation test, run against the real agent and sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from maya.conversations import ConversationFailure, load_conversation, run_conversation


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect ``tests/conversations/*.yaml`` as conversation tests."""
    if file_path.suffix == ".yaml" and file_path.parent == Path(__file__).parent:
        return ConversationFile.from_parent(parent, path=file_path)
    return None


class ConversationFile(pytest.File):
    """One conversation file: one test."""

    def collect(self) -> Iterator[pytest.Item]:
        """The file's single test, named after the conversation."""
        yield ConversationItem.from_parent(self, name=self.path.stem)


class ConversationItem(pytest.Item):
    """Plays the conversation; a failure shows the turn, the expectations and the trace."""

    def runtest(self) -> None:
        """Validate the file and run it in a fresh folder."""
        conversation = load_conversation(self.path)
        workdir = self.config._tmp_path_factory.mktemp(self.path.stem)  # type: ignore[attr-defined]
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MAYA_FORBID_REAL_MODEL", "1")
            for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "STRIPE_SECRET_KEY"):
                patch.delenv(name, raising=False)
            anyio.run(
                lambda: run_conversation(conversation, workdir=workdir, source=str(self.path))
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The runner's own account of what went wrong."""
        if isinstance(excinfo.value, ConversationFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the test comes from."""
        return self.path, 0, f"conversation: {self.name}"
