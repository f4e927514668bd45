"""pytest-model-analyzer: Triton model profiling as pytest items, with performance gates for CI."""

import os

__version__ = "0.1.0"

# Before anything imports grpc: the plugin keeps gRPC channels open (model control) while it starts
# perf_analyzer and tritonserver with fork + exec (a preexec_fn sets their parent-death signal). With gRPC core's
# fork support on, its fork handlers run in the child before exec, and about 1 child in 1,000 aborted there
# (`Epoll1Poller ... epoll_wait error: Bad file descriptor`, status -6) and failed its point. A child that
# execs at once needs no fork support; with it off, 0 of 3,000 aborted (stress test in the stop-12 note).
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
