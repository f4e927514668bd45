"""What a run and its servers leave behind when they do not finish their cleanup, and its removal at the next
start: the Python backend's shared-memory regions in /dev/shm, its directories in /tmp, and the run's own
temporary directories. Each is removed only when no running process can own it.

Shared memory and our temporary directories are named for their owner process (this PID namespace, its pid), so
an orphan is one whose owner no longer runs.

The Python backend's directory is made by `mkdtemp("/tmp/python_env_XXXXXX")` (a fixed template in its source:
$TMPDIR does not move it) when a server's first Python model loads, and removed only in the backend's
finalize, at the end of a clean shutdown. A server stopped within its exit timeout with a model still loaded,
killed, or crashed skips that: 117 empty directories had piled up in /tmp after one day of runs on a
development machine. Its name says nothing of its owner, so it is known to be left behind by when it was made:
a running server makes its directory after it started, so one older than every running process that could
host the backend (one mapping libtritonserver: tritonserver, perf_analyzer in c_api mode, an in-process server)
belongs to none of them. Only our own user's directories and processes count: another user's directory is not
ours to remove, and another user's process cannot have made one of ours.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path

SHM_DIRECTORY = Path("/dev/shm")
_SHM_PREFIX = "pma_shm_"
TEMP_PREFIX = "pma-"  # our temporary directories: pma-<kind>-<namespace>-<pid>-<random>


def _pid_namespace() -> str:
    """Who can tell whether a pid in a name still runs: processes of our PID namespace (its inode). Two
    containers of one pod can share /dev/shm and a hostname, but not their pids."""
    try:
        return format(os.stat("/proc/self/ns/pid").st_ino, "x")
    except OSError:
        return format(zlib.crc32(socket.gethostname().encode()), "08x")


NAMESPACE = _pid_namespace()
_starts = itertools.count()


def _runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it runs, as another user
    return True


def shm_prefix() -> str:
    """The name prefix for the Python backend's shared-memory regions of one server start: this PID namespace,
    this process, a count. Triton names each region `<prefix><uuid>` and unlinks it only when the model unloads
    in time; a server stopped or killed with a Python model loaded leaves 1 MiB or more behind in /dev/shm for
    good (1,195 regions, 1.2 GB, had piled up on a development machine), and a container's default 64 MiB
    /dev/shm then refuses every Python model. With a prefix of our own the regions can be removed."""
    return f"{_SHM_PREFIX}{NAMESPACE}_{os.getpid()}_{next(_starts)}_"


def remove_shm_regions(prefix: str) -> None:
    """Unlink the regions named with `prefix` (a process still mapping one keeps it until it exits)."""
    for path in SHM_DIRECTORY.glob(f"{prefix}*"):
        path.unlink(missing_ok=True)


def orphaned_shm_regions() -> list[Path]:
    """Our PID namespace's regions whose server's owner (a pytest or fleet process) no longer runs: left by a
    run killed outright, whose servers died with it (SIGKILL from the parent-death signal) before any cleanup."""
    orphaned = []
    for path in SHM_DIRECTORY.glob(f"{_SHM_PREFIX}{NAMESPACE}_*"):
        owner = path.name[len(_SHM_PREFIX) + len(NAMESPACE) + 1:].split("_", 1)[0]
        if owner.isdigit() and not _runs(int(owner)):
            orphaned.append(path)
    return orphaned


def remove_orphaned_shm_regions() -> None:
    for path in orphaned_shm_regions():
        path.unlink(missing_ok=True)


def owned_temp_dir(kind: str, parent: Path | None = None) -> Path:
    """A new temporary directory named for this process, `pma-<kind>-<namespace>-<pid>-<random>`: what a run
    killed before its cleanup leaves, the next start removes (`orphaned_temp_dirs`)."""
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{kind}-{NAMESPACE}-{os.getpid()}-", dir=parent))


def orphaned_temp_dirs(parent: Path | None = None) -> list[Path]:
    """Our PID namespace's temporary directories whose owner process no longer runs."""
    orphaned = []
    for path in Path(parent or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-{NAMESPACE}-*-*"):
        owner = path.name.split(f"-{NAMESPACE}-", 1)[1].split("-", 1)[0]
        if owner.isdigit() and path.is_dir() and not path.is_symlink() and not _runs(int(owner)):
            orphaned.append(path)
    return orphaned


PYTHON_ENV_DIRECTORY = Path("/tmp")
PYTHON_ENV_PATTERN = "python_env_*"
_HOST_LIBRARY = b"libtritonserver"


def _boot_time() -> float:
    with open("/proc/stat", "rb") as handle:
        for line in handle:
            if line.startswith(b"btime "):
                return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def _start_time(pid: str, boot: float, ticks: int) -> float:
    """When process `pid` started, in seconds since the epoch (field 22 of /proc/PID/stat, after the name)."""
    with open(f"/proc/{pid}/stat", "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    return boot + int(fields[19]) / ticks


def _hosts_backend(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/maps", "rb") as handle:
            return any(_HOST_LIBRARY in line for line in handle)
    except OSError:
        return False


def backend_host_start_times() -> list[float]:
    """The start times of our user's running processes that could host the Python backend."""
    uid, boot, ticks = os.getuid(), _boot_time(), os.sysconf("SC_CLK_TCK")
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid or not _hosts_backend(entry.name):
                continue
            found.append(_start_time(entry.name, boot, ticks))
        except (OSError, IndexError, ValueError):
            continue  # it ended while we looked
    return found


def left_python_envs(directory: Path = PYTHON_ENV_DIRECTORY,
                     hosts: Iterable[float] | None = None) -> list[Path]:
    """Our Python backend directories that no running server can own: made before the oldest running host
    started (`hosts`: their start times; by default, looked up)."""
    oldest = min(backend_host_start_times() if hosts is None else hosts, default=float("inf"))
    uid = os.getuid()
    left = []
    for path in directory.glob(PYTHON_ENV_PATTERN):
        try:
            stat = path.lstat()
        except OSError:
            continue
        # st_ctime: never earlier than the directory's creation and, unlike st_mtime, cannot be set back.
        if path.is_dir() and not path.is_symlink() and stat.st_uid == uid and stat.st_ctime < oldest:
            left.append(path)
    return left


def remove_left_directories() -> None:
    """Remove the directories that killed or unfinished runs and servers left in /tmp (a server's start and stop
    call this)."""
    for path in [*left_python_envs(), *orphaned_temp_dirs()]:
        shutil.rmtree(path, ignore_errors=True)
