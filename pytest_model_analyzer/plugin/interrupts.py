"""Ctrl-C wiring: installs the interrupt handler (infra/interrupt.py) for the test loop, and gives it the
three things it needs from pytest: how to stop after the current item, how to save now, and how to speak
to the real terminal while an item's output is captured."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from pathlib import Path

import pytest

from pytest_model_analyzer.infra.interrupt import InterruptHandler, to_stderr


class RunStop:
    """Stops the run after the current item, as a first Ctrl-C does; also when the run cannot keep what it
    measures (results/saving.py). Under xdist the controller's `stopfile` tells the workers, which
    (plugin/xdist/workers.py) stop when it exists: xdist's controller ignores session.shouldstop."""

    def __init__(self, stopfile: Path | None = None) -> None:
        self.stopfile = stopfile
        self.session: pytest.Session | None = None  # the pytest session, once it started (InterruptHooks)

    def request(self, reason: str) -> None:
        if self.session is not None:
            self.session.shouldstop = f"model-analyzer: {reason}"
        if self.stopfile is not None:
            self.stopfile.touch()


class InterruptHooks:
    def __init__(self, config: pytest.Config, stop: RunStop, save: Callable[[], None]) -> None:
        """`save`: the checkpoint, now (a Ctrl-C saves before it stops)."""
        self.config = config
        self.stop = stop
        self.handler = InterruptHandler(stop.request, save, self._say)

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
        self.stop.session = session
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
