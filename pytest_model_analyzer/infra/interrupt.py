"""Ctrl-C, as Model Analyzer users know it: the first press finishes the current measurement, saves the
checkpoint and stops; the third saves at once and exits. SIGTERM counts as a press too. pytest itself installs
no SIGINT handler. A SIGKILL cannot be handled: the journal (infra/journal.py) keeps what was measured.

While the run is finishing (after the test loop: checkpoint, server shutdown) a press is only acknowledged:
raising KeyboardInterrupt there would escape pytest with a traceback and lose the exit status.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

PRESSES_TO_ABORT = 3
HANDLED = (signal.SIGINT, signal.SIGTERM)


def to_stderr(text: str) -> None:
    """Straight to the process's stderr: where a message goes when no terminal reporter is there."""
    sys.stderr.write(f"\nmodel-analyzer: {text}\n")
    sys.stderr.flush()


class InterruptHandler:
    def __init__(self, request_stop: Callable[[str], None], abort: Callable[[], None],
                 say: Callable[[str], None] | None = None) -> None:
        self.request_stop = request_stop  # stop after the current item, with this reason
        self.abort = abort  # save now; a KeyboardInterrupt follows
        self.say = say or to_stderr
        self.count = 0
        self.finishing = False
        self._previous: Any = None

    def install(self) -> None:
        """SIGINT (Ctrl-C) and SIGTERM (what a CI runner sends on a timeout) are handled alike."""
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in HANDLED}

    def uninstall(self) -> None:
        if self._previous and threading.current_thread() is threading.main_thread():
            for sig, previous in self._previous.items():
                signal.signal(sig, previous)
            self._previous = None

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        if self.finishing:
            self.say(f"{name} {self.count}: already finishing (saving the checkpoint, stopping the server)")
            return
        if self.count >= PRESSES_TO_ABORT:
            self.finishing = True
            self.say(f"{name} {self.count}/{PRESSES_TO_ABORT}: saving the checkpoint and exiting now")
            self.abort()
            raise KeyboardInterrupt
        reason = f"{name} {self.count}/{PRESSES_TO_ABORT}: stopping after the current measurement"
        self.say(f"{reason} (press {PRESSES_TO_ABORT - self.count} more time(s) to exit at once)")
        self.request_stop(reason)
