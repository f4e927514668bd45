"""Child-process hygiene: own process groups, death with the parent, group kills."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


# Opened here, once, in the parent: a child forked while another thread forks too (models profiled together
# start their perf_analyzers at once) must not dlopen between fork and exec, where a lock another thread held
# at the fork would never be released.
_LIBC = _libc() if sys.platform.startswith("linux") else None


def set_parent_death_signal() -> None:
    """In the child (preexec_fn): get SIGTERM when pytest dies, even by SIGKILL (Linux only)."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def child_setup(cpus: frozenset[int] | None = None) -> Callable[[], None]:
    """A child's preexec_fn: death with the parent and, with `cpus`, the CPUs it and its own children may run on.
    The CPU mask is built here, in the parent, so that the child allocates nothing between fork and exec."""
    if cpus is None or _LIBC is None:
        return set_parent_death_signal
    bits = ctypes.sizeof(ctypes.c_ulong) * 8
    mask = (ctypes.c_ulong * (max(cpus) // bits + 1))()
    for cpu in cpus:
        mask[cpu // bits] |= 1 << (cpu % bits)
    size, pointer, libc = ctypes.sizeof(mask), ctypes.byref(mask), _LIBC

    def setup() -> None:
        set_parent_death_signal()
        libc.sched_setaffinity(0, size, pointer)

    return setup


def last_lines(text: str, count: int) -> str:
    """The last `count` non-blank lines of a child's output: what an error message quotes."""
    return "\n".join([line for line in text.splitlines() if line.strip()][-count:])


def kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the child's whole process group (it was started in a session of its own).

    Also after the leader has exited: its own children (the server's backend stubs) may still be there.
    """
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        if process.poll() is None:
            process.send_signal(sig)
