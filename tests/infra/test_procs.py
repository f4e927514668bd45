"""Child processes are started safely beside the plugin's own gRPC channels."""

from __future__ import annotations

import os
import subprocess
import sys


def test_grpc_fork_handlers_are_off_before_grpc_is_imported() -> None:
    """gRPC core's fork handlers aborted about 1 in 1,000 perf_analyzer starts (fork + exec) while the plugin's
    model-control channel was open; importing the plugin turns them off unless the user chose otherwise."""
    env = {key: value for key, value in os.environ.items() if key != "GRPC_ENABLE_FORK_SUPPORT"}
    code = "import pytest_model_analyzer, os, grpc; print(os.environ['GRPC_ENABLE_FORK_SUPPORT'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "false"
    chosen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**env, "GRPC_ENABLE_FORK_SUPPORT": "true"}).stdout
    assert chosen.strip() == "true"  # a user's own setting is kept


def test_a_child_runs_on_the_cpus_it_is_given_and_its_own_children_too() -> None:
    from pytest_model_analyzer.infra.procs import child_setup

    cpu = max(os.sched_getaffinity(0))
    code = "import os; print(sorted(os.sched_getaffinity(0)))"
    # The child starts a grandchild (as the server starts its backend stubs): the mask is inherited.
    nested = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {code!r}])"
    out = subprocess.run([sys.executable, "-c", nested], capture_output=True, text=True, check=True,
                         preexec_fn=child_setup(frozenset({cpu}))).stdout
    assert out.strip() == f"[{cpu}]"
    anywhere = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              preexec_fn=child_setup(None)).stdout
    assert anywhere.strip() == str(sorted(os.sched_getaffinity(0)))
