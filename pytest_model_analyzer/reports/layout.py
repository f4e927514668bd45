"""Where a run's reports go: Model Analyzer's layout under `export_path`, in one place. Every writer asks here,
so a path is named once (`results/`, `reports/`, `reports/detailed/`, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytest_model_analyzer.config.profile import ProfileConfig


@dataclass(frozen=True)
class OutputLayout:
    export: Path  # the profile's export_path

    @classmethod
    def of(cls, profile: ProfileConfig) -> OutputLayout:
        return cls(profile.run.export_path)

    @property
    def results(self) -> Path:
        """The CSV tables (metrics-model-inference.csv, ...)."""
        return self.export / "results"

    @property
    def reports(self) -> Path:
        return self.export / "reports"

    @property
    def summary(self) -> Path:
        return self.reports / "summary.html"

    @property
    def detailed(self) -> Path:
        """One page per configuration: `<variant>.html` (reports/detailed.py's report_path)."""
        return self.reports / "detailed"

    @property
    def history(self) -> tuple[Path, Path]:
        """`--ma-history`'s page and table."""
        return self.reports / "history.html", self.reports / "history.csv"

    def adoption_diff(self, model: str, variant: str) -> Path:
        """The config.pbtxt change that adopts a model's best config (the config-drift gate)."""
        return self.reports / f"{model}-adopt-{variant}.diff"
