"""Infrastructure: the Triton server, model control, perf_analyzer, monitoring, the bundled runtime, child
processes, checkpoints and Ctrl-C. Everything that touches a process, a socket, a signal or a file."""
