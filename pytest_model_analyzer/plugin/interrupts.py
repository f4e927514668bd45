"""Ctrl-C wiring: installs the interrupt handler (infra/interrupt.py) for the test loop, and gives it the
three things it needs from pytest: how to stop after the current item, how to save now, and how to speak
to the real terminal while an item's output is captured."""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from pytest_model_analyzer.infra.interrupt import InterruptHandler, to_stderr

if TYPE_CHECKING:
    from pytest_model_analyzer.plugin.xdist.workers import ControllerHooks
    from pytest_model_analyzer.results.saving import CheckpointKeeper


class InterruptHooks:
    def __init__(self, config: pytest.Config, keeper: CheckpointKeeper) -> None:
        self.config = config
        self.keeper = keeper
        self.controller: ControllerHooks | None = None  # set on an xdist controller
        self._session: pytest.Session | None = None
        self.handler = InterruptHandler(self.request_stop, lambda: keeper.save(interrupted=True), self._say)

    def request_stop(self, reason: str) -> None:
        """After the current item, as a first Ctrl-C does; also when the run cannot keep what it measures."""
        if self._session is not None:
            self._session.shouldstop = f"model-analyzer: {reason}"
        if self.controller is not None:
            self.controller.request_stop()  # xdist's controller ignores session.shouldstop: tell the workers

    def _say(self, text: str) -> None:
        """To the real terminal: while an item runs, pytest captures sys.stdout and sys.stderr."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            to_stderr(text)
            return
        # As pytest's live logging does: fd capture redirects even the reporter's stream during an item.
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.ensure_newline()
            reporter.write_line(f"model-analyzer: {text}", yellow=True, bold=True)

    @pytest.hookimpl
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._session = session
        if not self.config.option.collectonly:
            self.handler.install()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:
            self.handler.finishing = True  # from here on a Ctrl-C must not raise

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.handler.uninstall()
