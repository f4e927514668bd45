"""What a run or its servers leave in /tmp, and its removal: only what no running process can own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from pytest_model_analyzer.infra import leftovers
from pytest_model_analyzer.infra.leftovers import backend_host_start_times, left_python_envs, orphaned_temp_dirs


def test_a_python_env_made_before_every_running_server_started_is_left_behind_and_a_newer_one_is_not(
        tmp_path: Path) -> None:
    old = tmp_path / "python_env_old123"
    old.mkdir()
    server_started = time.time() + 0.05
    time.sleep(0.1)
    new = tmp_path / "python_env_new456"
    new.mkdir()
    (tmp_path / "python_env_file").write_text("not a directory")
    (tmp_path / "other").mkdir()
    assert left_python_envs(tmp_path, hosts=[server_started]) == [old]
    # With no server running, every one is left behind; with a server older than both, none is.
    assert sorted(left_python_envs(tmp_path, hosts=[])) == [new, old]
    assert left_python_envs(tmp_path, hosts=[old.stat().st_ctime - 1]) == []


def test_a_process_that_maps_libtritonserver_counts_as_a_host_and_others_do_not(tmp_path: Path) -> None:
    # A process of ours that maps a file named like the library: it could host the backend, as far as the
    # sweep can tell. Its start time is listed; this test process (no such mapping) is not.
    library = tmp_path / "libtritonserver.so"
    library.write_bytes(b"\0" * 4096)
    child = subprocess.Popen([sys.executable, "-c", "import mmap, sys, time\n"
                              f"f = open({str(library)!r}, 'rb'); m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)\n"
                              "print('mapped', flush=True); time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "mapped"
        starts = backend_host_start_times()
        assert any(abs(start - time.time()) < 30 for start in starts), starts
        assert not leftovers._hosts_backend(str(os.getpid()))
        assert leftovers._hosts_backend(str(child.pid))
    finally:
        child.kill()
        child.wait()


def test_a_temporary_directory_of_a_process_that_ended_is_orphaned_and_ours_is_not(tmp_path: Path) -> None:
    ours = leftovers.owned_temp_dir("baseline", parent=tmp_path)
    assert ours.name.startswith(f"pma-baseline-{leftovers.NAMESPACE}-{os.getpid()}-")
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    theirs = tmp_path / f"pma-baseline-{leftovers.NAMESPACE}-{ended.stdout.strip()}-abc"
    theirs.mkdir()
    elsewhere = tmp_path / f"pma-baseline-0000-{ended.stdout.strip()}-abc"  # another PID namespace's: not ours
    elsewhere.mkdir()
    assert orphaned_temp_dirs(tmp_path) == [theirs]
