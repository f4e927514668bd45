"""perf_analyzer command line, CSV parsing and failure handling (fake binaries; the real one runs in e2e)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.flags import effective_flags
from pytest_model_analyzer.infra import perf_analyzer as pa

HEADER = ("Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,"
          "Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,"
          "p99 latency,Avg latency,request/response,response wait")


def call(executable: Path, **overrides: object) -> pa.PerfAnalyzerCall:
    values = dict(executable=executable, model="add", target=("-u", "127.0.0.1:8001", "-i", "grpc"), batch_size=4,
                  load_kind="concurrency", load=2, flags={})
    values.update(overrides)
    return pa.PerfAnalyzerCall(**values)  # type: ignore[arg-type]


def fake(tmp_path: Path, body: str) -> Path:
    """A fake perf_analyzer: a shell script that gets perf_analyzer's arguments."""
    path = tmp_path / "perf_analyzer"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_command_has_the_point_and_the_user_flags() -> None:
    command = call(Path("/bin/pa"), flags={"measurement-interval": "200", "shape": ["IN:1,2", "IN2:3"],
                                           "async": ""}).command(Path("out.csv"))
    assert command[:9] == ["/bin/pa", "-m", "add", "-u", "127.0.0.1:8001", "-i", "grpc", "-b", "4"]
    assert "--concurrency-range=2" in command
    assert command[-4:] == ["--measurement-interval=200", "--shape=IN:1,2", "--shape=IN2:3", "--async"]
    assert "--measurement-mode=count_windows" not in command  # given flags are used as given


def test_model_analyzer_default_flags_when_none_are_given(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    profile = build_profile({"model_repository": str(tmp_path), "profile_models": "m", "request_rate": [16]})
    flags = profile.models[0].perf_analyzer_flags
    command = call(Path("pa"), load_kind="request_rate", load=16, flags=flags).command(Path("o.csv"))
    assert "--request-rate-range=16" in command
    assert command[-1] == "--measurement-mode=count_windows"


def test_csv_rows_are_keyed_by_concurrency_not_order() -> None:
    text = "\n".join([HEADER, "4,48.4,4,298,59497,13,20320,203,1,82167,82705,82899,83039,80339,5,80313",
                      "2,48.5,4,134,19854,14,20280,273,2,41192,41442,41493,41571,40563,6,40537"])
    metrics = pa.parse_csv(text, "concurrency", 2)
    assert metrics["perf_throughput"] == 48.5
    assert metrics["perf_latency_p99"] == pytest.approx(41.571)
    assert metrics["perf_server_queue"] == pytest.approx(19.854)
    assert metrics["perf_client_response_wait"] == pytest.approx(40.537)
    with pytest.raises(pa.PerfAnalyzerError, match="no row for Concurrency 8"):
        pa.parse_csv(text, "concurrency", 8)


def test_failure_carries_perf_analyzers_last_lines(tmp_path: Path) -> None:
    binary = fake(tmp_path, "echo connecting; echo 'error: failed to get model metadata' >&2; exit 99\n")
    with pytest.raises(pa.PerfAnalyzerError, match=r"(?s)exited with status 99.*failed to get model metadata"):
        pa.run(call(binary), tmp_path / "w", os.environ, timeout=10)


def test_missing_shared_library_says_how_to_install(tmp_path: Path) -> None:
    binary = fake(tmp_path, "echo 'perf_analyzer: error while loading shared libraries: libb64.so.0d' >&2; "
                            "exit 127\n")
    with pytest.raises(pa.PerfAnalyzerError, match=r"(?s)libb64.so.0d.*scripts/setup.sh"):
        pa.run(call(binary), tmp_path / "w", os.environ, timeout=10)


def test_hung_perf_analyzer_is_killed_at_the_timeout(tmp_path: Path) -> None:
    binary = fake(tmp_path, "sleep 30\n")
    with pytest.raises(pa.PerfAnalyzerError, match=r"timed out after 0.5 s \(perf_analyzer_timeout\)"):
        pa.run(call(binary), tmp_path / "w", os.environ, timeout=0.5)


def test_unstable_measurement_is_retried_with_wider_windows(tmp_path: Path) -> None:
    # Fails to stabilise until the window reaches 800 ms, then writes its CSV to the -f path.
    binary = fake(tmp_path, f"""
for arg in "$@"; do case $arg in --measurement-interval=*) window=${{arg#*=}};; esac; done
out=$(echo "$@" | sed 's/.* -f \\([^ ]*\\) .*/\\1/')
echo "$window" >> {tmp_path}/windows
if [ "$window" -lt 800 ]; then echo 'Failed to obtain stable measurement.'; exit 2; fi
printf '%s\\n%s\\n' '{HEADER}' '2,99.5,4,134,19854,14,20280,273,2,41192,41442,41493,41571,40563,6,40537' > "$out"
""")
    flags = {"measurement-mode": "time_windows", "measurement-interval": "200"}
    metrics, _, adjusts, _ = pa.run(call(binary, flags=flags), tmp_path / "w", os.environ, timeout=20)
    assert metrics["perf_throughput"] == 99.5
    assert adjusts == 2
    assert (tmp_path / "windows").read_text().split() == ["200", "400", "800"]
    with pytest.raises(pa.PerfAnalyzerError, match="still unstable after 1 window adjustments"):
        pa.run(call(binary, flags={"measurement-mode": "time_windows", "measurement-interval": "100"}),
               tmp_path / "w", os.environ, timeout=20,
               max_adjusts=1)


def test_count_windows_widen_the_request_count() -> None:
    assert pa.widened({"measurement-mode": "count_windows"})["measurement-request-count"] == "100"
    # Model Analyzer's default mode is count windows: the config layer gives it to a model with no flags.
    assert pa.widened(effective_flags({}))["measurement-request-count"] == "100"
    assert pa.widened({"measurement-mode": "time_windows", "measurement-interval": "300"})[
        "measurement-interval"] == "600"
    assert pa.widened({"measurement-interval": "300"})["measurement-interval"] == "600"  # time windows


def test_flags_are_spelled_as_this_perf_analyzer_reads_them() -> None:
    """Model Analyzer's PerfConfig: its long names for perf_analyzer's short options, and switches that are
    given when true and left out when false."""
    command = call(Path("pa"), flags={"model-version": "1", "http-header": ["a:1", "b:2"], "extra-verbose": "",
                                      "verbose": "true", "async": "true", "streaming": "false",
                                      "collect-metrics": ""}).command(Path("o.csv"))
    assert command[-11:] == ["-x", "1", "-H", "a:1", "-H", "b:2", "-v", "-v", "-v", "--async", "--collect-metrics"]


HELP = """/x/perf_analyzer: unrecognized option '--help'
Usage: /x/perf_analyzer [options]
==== SYNOPSIS ====

\t--version
\t-m <model name>
\t-x <model version>
\t--measurement-interval (-p) <measurement window (in msec)>
\t--percentile <percentile>

==== OPTIONS ====
 --percentile: Indicates the desired percentile.
"""


def test_the_options_a_binary_takes_come_from_its_own_help(tmp_path: Path) -> None:
    (tmp_path / "help.txt").write_text(HELP)
    binary = fake(tmp_path, f"cat {tmp_path / 'help.txt'} >&2; exit 1\n")
    accepted = pa.accepted_options(binary, "")
    assert {"--version", "-m", "-x", "--measurement-interval", "--percentile"} <= accepted
    assert pa.unsupported_flags({"measurement-interval": "200", "model-version": "1", "http-header": ["a:1"],
                                 "streaming": ""}, accepted) == ["http-header", "streaming"]
    assert pa.unsupported_flags({"streaming": ""}, frozenset()) == []  # help unreadable: perf_analyzer decides


def test_a_flag_the_binary_rejects_is_named_with_its_own_line(tmp_path: Path) -> None:
    """Not its help text: the line before it that says what went wrong."""
    (tmp_path / "help.txt").write_text(HELP)
    binary = fake(tmp_path, f"echo \"$0: unrecognized option '--streaming'\"; tail -n +2 {tmp_path / 'help.txt'};"
                            " exit 1\n")
    with pytest.raises(pa.PerfAnalyzerError) as error:
        pa.run(call(binary, flags={"streaming": ""}), tmp_path / "w", os.environ, timeout=10)
    assert str(error.value).splitlines()[1:] == [f"{binary}: unrecognized option '--streaming'"]


def test_the_profile_is_checked_against_the_binary_before_measuring(tmp_path: Path) -> None:
    from pytest_model_analyzer.infra import runtime
    from pytest_model_analyzer.infra.stack import check_perf_analyzer_flags

    (tmp_path / "help.txt").write_text(HELP)
    binary = fake(tmp_path, f"cat {tmp_path / 'help.txt'}; exit 1\n")
    (tmp_path / "m").mkdir()
    profile = build_profile({"model_repository": str(tmp_path), "profile_models": "m",
                             "perf_analyzer_flags": {"percentile": 95, "streaming": True}})
    with pytest.raises(pa.UnsupportedFlags, match=r"^perf_analyzer_flags\.streaming: the perf_analyzer at .* "
                                                  r"does not take this option"):
        check_perf_analyzer_flags(profile, binary, runtime.Runtime())


# perf_analyzer 2.51's profile export, as it wrote it for the sleep model at concurrency 2 (inputs trimmed):
# every request of the three stable windows, nanosecond timestamps.
EXPORT = """{"experiments": [{"experiment": {"mode": "concurrency", "value": 2},
  "requests": [
    {"timestamp": 1000000000, "request_inputs": {}, "response_timestamps": [1021000000], "response_outputs": []},
    {"timestamp": 1000500000, "request_inputs": {}, "response_timestamps": [1042500000], "response_outputs": []},
    {"timestamp": 1021000000, "request_inputs": {}, "response_timestamps": [1030000000, 1063000000]},
    {"timestamp": 1042500000, "request_inputs": {}, "response_timestamps": []}],
  "window_boundaries": [999000000, 1359000000, 1719000000, 2079000000]}],
  "version": "2.51.0", "service_kind": "triton", "endpoint": ""}"""


def test_the_profile_export_gives_every_requests_times_and_the_windows_span() -> None:
    requests = pa.parse_profile_export(EXPORT, load=2)
    assert requests is not None
    assert requests.request_latency == [21.0, 42.0, 42.0]  # the last response; a request without one is not counted
    assert requests.time_to_first_response == [21.0, 42.0, 9.0]  # a decoupled model's first response
    assert requests.span_s == pytest.approx(1.08)
    # A custom load's export holds every window; the figures rest on the last three (perf_analyzer's count).
    earlier = EXPORT.replace('"window_boundaries": [999000000,', '"window_boundaries": [100, 200, 999000000,')
    earlier = earlier.replace('"requests": [', '"requests": [{"timestamp": 100, "response_timestamps": [150]}, ')
    assert pa.parse_profile_export(earlier, load=2).request_latency == [21.0, 42.0, 42.0]
    assert pa.parse_profile_export("not json", load=2) is None
    assert pa.parse_profile_export('{"experiments": []}', load=2) is None


def test_a_run_counts_the_exported_requests_and_removes_its_export(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(EXPORT)
    binary = fake(tmp_path, f"""
out=$(echo "$@" | sed 's/.* -f \\([^ ]*\\) .*/\\1/')
mine=$(echo "$@" | sed 's/.*--profile-export-file=\\([^ ]*\\).*/\\1/')
cp {export} "$mine"
printf '%s\\n%s\\n' '{HEADER}' '2,99.5,4,134,19854,14,20280,273,2,41192,41442,41493,41571,40563,6,40537' > "$out"
""")
    run = pa.run(call(binary, flags={"measurement-mode": "time_windows"}), tmp_path / "w", os.environ, timeout=20)
    assert run.metrics[pa.REQUESTS] == 3 and run.requests is not None and run.requests.count == 3
    assert list((tmp_path / "w").iterdir()) == []  # neither the CSV nor the export is left behind


def test_an_unstable_custom_load_that_exits_0_without_a_csv_widens_its_window(tmp_path: Path) -> None:
    """perf_analyzer 2.51 with request-intervals says it could not stabilise, writes no CSV and exits 0."""
    header = HEADER.replace("Concurrency", "Request Rate")
    row = "46,47.1,4,134,19854,14,20280,273,2,41192,41442,41493,41571,40563,6,40537"
    binary = fake(tmp_path, f"""
out=$(echo "$@" | sed 's/.* -f \\([^ ]*\\) .*/\\1/')
window=$(echo "$@" | sed 's/.*--measurement-interval=\\([0-9]*\\).*/\\1/')
if [ "$window" -lt 400 ]; then echo 'Failed to obtain stable measurement.'; exit 0; fi
printf '%s\\n%s\\n' '{header}' '{row}' > "$out"
""")
    flags = {"measurement-mode": "time_windows", "measurement-interval": "200", "request-intervals": "/x"}
    run = pa.run(call(binary, load_kind="request_intervals", load=0, flags=flags), tmp_path / "w", os.environ,
                 timeout=20)
    assert run.adjusts == 1 and run.metrics["perf_throughput"] == 47.1
