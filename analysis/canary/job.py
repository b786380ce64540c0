"""The canary job end to end: sources per arm → the report's engine → the canary folder.

The CLI builds :class:`CanaryOptions` once and calls :func:`run_canary`; the demo
and tests call it directly. The engine is the report's (local fork pool or Dask),
given a :class:`~analysis.core.canary.reducer.CanaryReduction` instead of report
settings, so spill, bucketing and merge are the same code and memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from analysis.canary.writer import write_canary
from analysis.core.canary.reducer import CanaryReduction
from analysis.core.canary.settings import ARMS, CanarySettings, CanarySpec
from analysis.core.canary.verdict import build_canary
from analysis.core.settings import ReportSettings
from analysis.engine import Progress, Run, engine_for
from analysis.failon import holding
from analysis.job import check_run, publish_with, report_id
from analysis.sources import Horizon, Part, Source, Tail, open_source
from shadowdiff.model.errors import ConfigError
from shadowdiff.model.timefmt import format_ms, now_utc


@dataclass(slots=True)
class CanaryOptions:
    out: str
    records: str | None = None
    baseline_records: str | None = None
    canary_records: str | None = None
    labels: tuple[str, str] = ARMS  # deployment labels of (baseline, canary)
    since: datetime | None = None
    until: datetime | None = None
    settings: ReportSettings = field(default_factory=ReportSettings)
    canary: CanarySettings = field(default_factory=CanarySettings)
    fail_on: tuple[str, ...] = ()
    workers: int | None = None
    work_dir: str | None = None
    clients: dict[str, Any] = field(default_factory=dict)
    engine: str = "local"  # local | dask
    scheduler: str | None = None


@dataclass(slots=True)
class ArmPart:
    """A part whose primary records all belong to one arm (the engine tags its lines so)."""

    name: str
    size: int
    role: str | None  # "baseline" | "canary"
    parallel_ok: bool
    part: Part

    @classmethod
    def of(cls, part: Part, arm: str) -> ArmPart:
        return cls(part.name, part.size, arm, part.parallel_ok, part)

    def open(self) -> IO[bytes]:
        return self.part.open()


class ArmSource:
    """A source whose records are all one arm's (``--baseline-records``, ``--canary-records``)."""

    def __init__(self, source: Source, arm: str) -> None:
        self.source, self.arm = source, arm
        self.url: str = source.url
        self.role: str | None = arm

    def parts(self, since: datetime | None, until: datetime | None) -> list[Part]:
        return [ArmPart.of(p, self.arm) for p in self.source.parts(since, until)]

    def tail(self) -> Tail:
        return ArmTail(self.source.tail(), self.arm)


class ArmTail:
    """The live cursor of an arm's source, its parts tagged with the arm like ``parts``."""

    def __init__(self, tail: Tail, arm: str) -> None:
        self.inner, self.arm = tail, arm

    def poll(self, horizon: Horizon) -> list[Part]:
        return [ArmPart.of(p, self.arm) for p in self.inner.poll(horizon)]

    def ack(self, part: Part) -> None:
        self.inner.ack(part.part if isinstance(part, ArmPart) else part)


def sources_of(opts: CanaryOptions) -> tuple[list[Source], dict[str, str]]:
    """``--records`` (arms by deployment label) or one source per arm, never both."""
    per_arm = {"baseline": opts.baseline_records, "canary": opts.canary_records}
    if opts.records and any(per_arm.values()):
        raise ConfigError("give --records, or --baseline-records with --canary-records, not both")
    if opts.records:
        return [open_source(opts.records, "primary", opts.clients)], {"records": opts.records}
    missing = [arm for arm, url in per_arm.items() if not url]
    if len(missing) == 2:
        raise ConfigError("no input: give --records SRC or --baseline-records/--canary-records SRC")
    if missing:
        raise ConfigError(f"--{missing[0]}-records is missing (the other arm's source is given)")
    srcs: list[Source] = [
        ArmSource(open_source(str(url), "primary", opts.clients), arm)
        for arm, url in per_arm.items()
    ]
    return srcs, {f"{arm}_records": str(url) for arm, url in per_arm.items()}


@dataclass(slots=True)
class CanaryResult:
    doc: dict[str, Any]
    location: str


def _notes(partial: Any, labels: tuple[str, str], per_arm: bool) -> list[str]:
    notes = []
    if partial.counts["unlabelled"] and not per_arm:
        notes.append(
            f"{partial.counts['unlabelled']} primary records have a deployment that is neither "
            f"{labels[0]!r} nor {labels[1]!r} and were left out (see --baseline/--canary)"
        )
    if partial.counts["invalid_records"]:
        notes.append(f"{partial.counts['invalid_records']} lines are not valid records (skipped)")
    return notes


def run_canary(opts: CanaryOptions, progress: Progress | None = None) -> CanaryResult:
    check_run(opts.since, opts.until, opts.engine, opts.scheduler)
    if opts.labels[0] == opts.labels[1]:
        raise ConfigError(f"--baseline and --canary are both {opts.labels[0]!r}")
    sources, named = sources_of(opts)
    spec = CanarySpec(opts.settings, opts.canary, opts.labels)
    reduction = CanaryReduction(spec)
    run = Run(
        workers=opts.workers, work_dir=opts.work_dir, scheduler=opts.scheduler, progress=progress
    )
    partial = engine_for(opts.engine)(sources, reduction, (opts.since, opts.until), run)
    start, end = opts.since or partial.first_seen, opts.until or partial.last_seen
    generated = now_utc()
    meta = {
        "id": report_id(start),
        "generated_at": format_ms(generated),
        "window": {
            "start": format_ms(start or generated),
            "end": format_ms(end or generated),
        },
        "sources": named,
        "fail_on": list(opts.fail_on),
        "notes": _notes(partial, opts.labels, "records" not in named),
    }
    doc = build_canary(partial, spec, meta, lambda values: holding(values, opts.fail_on))
    s3 = opts.clients.get("s3")
    location = publish_with(opts.out, lambda where: write_canary(where, doc, s3))
    return CanaryResult(doc, location)
