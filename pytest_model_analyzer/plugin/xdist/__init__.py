"""Everything pytest-xdist, in one place: a sweep spread over workers (servers, GPUs, remote endpoints).

- `workload.py`: how a run's points split into units of work and what each is expected to cost (plain
  functions, no pytest: the plan is unit-tested without workers);
- `scheduler.py`: the xdist scheduler that hands out those units, dearest first;
- `workers.py`: a worker's slot and stop file, and the controller's hooks that give slots out and take the
  workers' measurements in.
"""
