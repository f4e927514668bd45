"""Runs the real perf_analyzer for one point and parses its CSV into Model Analyzer's metrics, and its profile
export (every request of the stable windows) into the requests' own times."""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from pytest_model_analyzer.analysis.slo import RequestTimes
from pytest_model_analyzer.analysis.tokens import gathered, request_tokens
from pytest_model_analyzer.config.flags import counts_requests
from pytest_model_analyzer.domain.errors import PluginError
from pytest_model_analyzer.domain.identity import CONCURRENCY, PLUGIN_RECORDS, REQUEST_INTERVALS, REQUEST_RATE
from pytest_model_analyzer.domain.tokens import TokenReading
from pytest_model_analyzer.infra.procs import child_setup, kill_group, last_lines
from pytest_model_analyzer.infra.runtime import INSTALL_HINT

# CSV column -> (metric tag, divisor to reach the metric's unit). Times in the CSV are microseconds.
_COLUMNS = {
    "Inferences/Second": ("perf_throughput", 1.0),
    "p50 latency": ("perf_latency_p50", 1000.0),
    "p90 latency": ("perf_latency_p90", 1000.0),
    "p95 latency": ("perf_latency_p95", 1000.0),
    "p99 latency": ("perf_latency_p99", 1000.0),
    "Avg latency": ("perf_latency_avg", 1000.0),
    "request/response": ("perf_client_send_recv", 1000.0),
    "send/recv": ("perf_client_send_recv", 1000.0),
    "response wait": ("perf_client_response_wait", 1000.0),
    "Server Queue": ("perf_server_queue", 1000.0),
    "Server Compute Input": ("perf_server_compute_input", 1000.0),
    "Server Compute Infer": ("perf_server_compute_infer", 1000.0),
    "Server Compute Output": ("perf_server_compute_output", 1000.0),
}
# A custom load's row is its file's mean request rate, which only perf_analyzer knows: its only row is taken.
_LOAD_COLUMNS = {CONCURRENCY: "Concurrency", REQUEST_RATE: "Request Rate", REQUEST_INTERVALS: "Request Rate"}
# Every request with its timestamps: perf_analyzer writes it to a path of the plugin's (it refuses a path that
# exists, so a user's own path in perf_analyzer_flags gets a copy of each point's, the last one staying).
EXPORT_FLAG = "profile-export-file"
REQUESTS = "requests"  # not a metric: how many requests the figures rest on (see requests_behind)


class PerfAnalyzerError(PluginError):
    """perf_analyzer failed for a point; the message carries its own last lines of output."""


class UnsupportedFlags(PluginError):
    """The profile asks perf_analyzer for a flag that this perf_analyzer binary does not take."""


@dataclass(frozen=True)
class PerfAnalyzerCall:
    executable: Path
    model: str  # the name perf_analyzer asks for
    target: tuple[str, ...]  # where the requests go: `-u URL -i grpc`, or the C API's flags (the server's word)
    batch_size: int
    load_kind: str
    load: int
    flags: Mapping[str, Any]
    export: bool = True  # ask for every request (--profile-export-file); the CSV's figures come either way
    tokens: TokenReading | None = None  # an LLM point: read each request's tokens from the export
    cpus: frozenset[int] | None = None  # the CPUs perf_analyzer may use (an A/B duet's); None: any

    def command(self, csv_path: Path, export_path: Path | None = None) -> list[str]:
        load_flag = "--request-rate-range" if self.load_kind == REQUEST_RATE else "--concurrency-range"
        # A custom load is the request-intervals file among the flags: it replaces the load range.
        load = [] if self.load_kind == REQUEST_INTERVALS else [f"{load_flag}={self.load}"]
        command = [
            str(self.executable), "-m", self.model, *self.target,
            "-b", str(self.batch_size), *load, "-f", str(csv_path), "--verbose-csv",
        ]
        if export_path is not None:
            command.append(f"--{EXPORT_FLAG}={export_path}")
        for name, value in passed_flags(self.flags).items():
            if name == EXPORT_FLAG and export_path is not None:
                continue  # the user's path gets a copy of the plugin's export (run_once)
            for item in value if isinstance(value, list) else [value]:
                command.extend(flag_arguments(name, item))
        return command


# Model Analyzer's names for options that perf_analyzer spells only in short form (PerfConfig._input_to_options).
SHORT_FORMS: dict[str, list[str]] = {"model-version": ["-x"], "http-header": ["-H"], "verbose": ["-v"],
                                     "extra-verbose": ["-v", "-v"]}
# Options that take no value: given when the YAML says true (or nothing), left out when it says false, as
# Model Analyzer's PerfConfig does with its boolean and verbose arguments.
SWITCHES = frozenset({"streaming", "async", "sync", "binary-search", "collect-metrics", "serial-sequences",
                      "verbose", "extra-verbose", "verbose-csv"})


def flag_arguments(name: str, value: Any) -> list[str]:
    """The command-line arguments of one flag, as this perf_analyzer reads it."""
    spelled = SHORT_FORMS.get(name, [f"--{name}"])
    if name in SWITCHES:
        return spelled if str(value).lower() in ("", "none", "true") else []
    if value in ("", None):
        return spelled
    return [*spelled, str(value)] if name in SHORT_FORMS else [f"--{name}={value}"]


_OPTION = re.compile(r"^\s+(--?[A-Za-z][A-Za-z0-9-]*)")


@functools.cache
def accepted_options(executable: Path, library_path: str) -> frozenset[str]:
    """The options this perf_analyzer binary lists in its help (`--async`, `-x`, ...); empty when it cannot
    say (then nothing is refused up front: perf_analyzer's own error, quoted, will say it)."""
    env = {**os.environ, "LD_LIBRARY_PATH": library_path}
    try:
        result = subprocess.run([str(executable), "--help"], capture_output=True, text=True, timeout=30, env=env,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    text = result.stdout + result.stderr
    return frozenset(match.group(1) for line in text.splitlines() if (match := _OPTION.match(line)))


def passed_flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The flags perf_analyzer gets: all but the plugin's own records among them (a custom load's digest, an
    LLM's requests' digest)."""
    return {name: value for name, value in flags.items() if name not in PLUGIN_RECORDS}


def unsupported_flags(flags: Mapping[str, Any], accepted: frozenset[str]) -> list[str]:
    """The user's flags that this perf_analyzer does not take (none when its help could not be read)."""
    if not accepted:
        return []
    return [name for name in passed_flags(flags)
            if (SHORT_FORMS[name][0] if name in SHORT_FORMS else f"--{name}") not in accepted]


def failure_lines(text: str) -> str:
    """What perf_analyzer said went wrong: the lines before the usage text it prints after a bad option
    (`unrecognized option '--foo'`), else its last lines."""
    head = text.split("Usage:", 1)[0] if "Usage:" in text else ""
    return last_lines(head, 8) if head.strip() else last_lines(text, 8)


def parse_csv(text: str, load_kind: str, load: int) -> dict[str, float]:
    """The metrics of the row for `load`; perf_analyzer does not always write rows in load order."""
    load_column = _LOAD_COLUMNS[load_kind]
    for row in csv.DictReader(io.StringIO(text)):
        value = row.get(load_column)
        if value is None or not value.strip():
            continue
        if float(value) != load and load_kind != REQUEST_INTERVALS:
            continue
        metrics: dict[str, float] = {}
        for column, (tag, divisor) in _COLUMNS.items():
            cell = row.get(column)
            if cell not in (None, ""):
                metrics[tag] = float(cell) / divisor
        if "perf_throughput" not in metrics:
            raise PerfAnalyzerError(f"perf_analyzer's CSV has no `Inferences/Second` for {load_column} {load}")
        return metrics
    raise PerfAnalyzerError(f"perf_analyzer's CSV has no row for {load_column} {load}")


def parse_profile_export(text: str, load: int, tokens: TokenReading | None = None) -> RequestTimes | None:
    """The requests perf_analyzer's figures rest on, from its profile export: of the experiment at `load` (the
    last one when none says so), those whose last response came within the last STABLE_WINDOWS windows (the
    stable ones; a custom load's export also holds the earlier windows). Seen on 2.51: their count, mean rate
    and percentiles are perf_analyzer's own. With `tokens` (an LLM point), each request's tokens and their
    times too (analysis/tokens.py). None when the export holds no such request."""
    try:
        experiments = json.loads(text).get("experiments") or []
    except (ValueError, AttributeError):
        return None
    chosen = next((e for e in experiments if float((e.get("experiment") or {}).get("value", -1)) == load),
                  experiments[-1] if experiments else None)
    if not chosen or not chosen.get("requests"):
        return None
    stable = (chosen.get("window_boundaries") or [])[-STABLE_WINDOWS - 1:]
    first, last = (stable[0], stable[-1]) if len(stable) >= 2 else (-math.inf, math.inf)
    latency, to_first, per_request = [], [], []
    for request in chosen["requests"]:
        responses = request.get("response_timestamps") or []
        if not responses or not first <= responses[-1] <= last:
            continue  # no response recorded (perf_analyzer counts no latency for it either), or not stable
        sent = request["timestamp"]
        latency.append((responses[-1] - sent) / 1e6)
        to_first.append((responses[0] - sent) / 1e6)
        if tokens is not None:
            prompt = (request.get("request_inputs") or {}).get("text_input", "")
            per_request.append(request_tokens(sent, responses, request.get("response_outputs"),
                                              prompt if isinstance(prompt, str) else "", tokens))
    span = (last - first) / 1e9 if len(stable) >= 2 else 0.0
    if not latency:
        return None
    return RequestTimes(latency, to_first, span,
                        gathered(per_request, tokens.streaming) if tokens is not None else None)


_UNSTABLE = ("Failed to obtain stable measurement", "Please use a larger time window")
# perf_analyzer's own defaults, the starting points when the user did not set a window.
_DEFAULT_INTERVAL_MS = 5000
_DEFAULT_REQUEST_COUNT = 50


def widened(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The flags with the measurement window doubled, as Model Analyzer's auto-adjust does."""
    result = dict(flags)
    if counts_requests(result):
        result["measurement-request-count"] = str(2 * int(result.get("measurement-request-count",
                                                                      _DEFAULT_REQUEST_COUNT)))
    else:
        result["measurement-interval"] = str(2 * int(result.get("measurement-interval", _DEFAULT_INTERVAL_MS)))
    return result


class Unstable(PerfAnalyzerError):
    """perf_analyzer could not stabilise within its trials: a wider window may succeed."""


STABLE_WINDOWS = 3  # perf_analyzer reports a measurement once 3 consecutive windows agree


def requests_behind(flags: Mapping[str, Any], metrics: Mapping[str, float], batch_size: int) -> float:
    """About how many requests the reported figures rest on: the stable windows' requests. A percentile
    from few requests is not one (a p99 of 30 requests is their maximum)."""
    if counts_requests(flags):
        return float(STABLE_WINDOWS * int(flags.get("measurement-request-count", _DEFAULT_REQUEST_COUNT)))
    seconds = int(flags.get("measurement-interval", _DEFAULT_INTERVAL_MS)) / 1000.0
    return STABLE_WINDOWS * seconds * metrics.get("perf_throughput", 0.0) / max(batch_size, 1)


class PerfAnalyzerRun(NamedTuple):
    metrics: dict[str, float]  # with `requests`: how many requests the figures rest on
    seconds: float
    adjusts: int  # times the window was widened
    requests: RequestTimes | None  # every request of the stable windows, when perf_analyzer exported them


def run(call: PerfAnalyzerCall, workdir: Path, env: Mapping[str, str], timeout: float,
        output_log: Path | None = None, max_adjusts: int = 10,
        limit: float | None = None) -> PerfAnalyzerRun:
    """Measure one point, widening the window when perf_analyzer cannot stabilise.

    `timeout` bounds the whole point, retries included (what is left of the point's `limit`,
    perf_analyzer_timeout, once its model loaded). The metrics include `requests`: the count of the exported
    requests, else the estimate of `requests_behind` for the window that finally held.
    """
    started = time.monotonic()
    adjusts = 0
    while True:
        remaining = timeout - (time.monotonic() - started)
        try:
            metrics, requests = run_once(call, workdir, env, max(remaining, 0.001), output_log,
                                         limit=timeout if limit is None else limit)
            metrics[REQUESTS] = (float(requests.count) if requests is not None
                                 else requests_behind(call.flags, metrics, call.batch_size))
            return PerfAnalyzerRun(metrics, time.monotonic() - started, adjusts, requests)
        except Unstable as exc:
            if adjusts >= max_adjusts:
                raise PerfAnalyzerError(
                    f"{exc}\n(still unstable after {adjusts} window adjustments: perf_analyzer_max_auto_adjusts)"
                ) from None
            adjusts += 1
            call = replace(call, flags=widened(call.flags))


def run_once(call: PerfAnalyzerCall, workdir: Path, env: Mapping[str, str], timeout: float,
             output_log: Path | None = None,
             limit: float | None = None) -> tuple[dict[str, float], RequestTimes | None]:
    """One perf_analyzer process for one point. The CSV file is unique to this call.

    `timeout` is what is left of the point's budget; `limit` is that budget (perf_analyzer_timeout), which
    the message names: the user set it, while the time left depends on how long earlier tries took."""
    workdir.mkdir(parents=True, exist_ok=True)
    stem = workdir / f"pa-{os.getpid()}-{threading.get_native_id()}-{time.monotonic_ns()}"
    csv_path, own_export = stem.with_suffix(".csv"), stem.with_suffix(".json")
    users_export = call.flags.get(EXPORT_FLAG)
    command = call.command(csv_path, own_export if call.export or users_export else None)
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env), cwd=workdir,
            start_new_session=True,  # a terminal Ctrl-C must not kill a measurement half way
            preexec_fn=child_setup(call.cpus),
        )
    except FileNotFoundError:
        raise PerfAnalyzerError(f"perf_analyzer not found at {call.executable}") from None
    except OSError as exc:
        raise PerfAnalyzerError(f"perf_analyzer could not start ({call.executable}): {exc}") from None
    try:  # the CSV and the export are this call's own: gone when it returns or raises, whatever happened
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(process, signal.SIGKILL)
            process.communicate()
            raise PerfAnalyzerError(
                f"perf_analyzer timed out after {limit if limit is not None else timeout:g} s (perf_analyzer_timeout) "
                "and was killed"
            ) from None
        except BaseException:
            kill_group(process, signal.SIGKILL)
            process.wait()
            raise
        text = output.decode("utf-8", "replace")
        if output_log is not None:
            with output_log.open("a", encoding="utf-8") as log:
                log.write(f"$ {' '.join(command)}\n{text}\n")
        # With a custom load (request-intervals) perf_analyzer 2.51 exits 0 when it could not stabilise, writing no
        # CSV: unstable all the same, so the window is widened as for any other load.
        if any(marker in text for marker in _UNSTABLE) and (process.returncode != 0 or not csv_path.exists()):
            raise Unstable(f"perf_analyzer could not stabilise the measurement:\n{last_lines(text, 3)}")
        if process.returncode != 0:
            hint = ""
            if "error while loading shared libraries" in text:
                hint = f"\n(a library is missing: {INSTALL_HINT})"
            raise PerfAnalyzerError(
                f"perf_analyzer exited with status {process.returncode}:\n{failure_lines(text)}{hint}"
            )
        try:
            csv_text = csv_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PerfAnalyzerError(f"perf_analyzer wrote no CSV:\n{last_lines(text, 8)}") from None
        try:
            export = own_export.read_text(encoding="utf-8")
            if users_export:
                Path(str(users_export)).write_text(export, encoding="utf-8")
            requests = parse_profile_export(export, call.load, call.tokens)
        except OSError:
            requests = None  # an older perf_analyzer, or a fake one: the CSV's figures still stand
        return parse_csv(csv_text, call.load_kind, call.load), requests
    finally:
        csv_path.unlink(missing_ok=True)
        own_export.unlink(missing_ok=True)
