"""``shadowdiff watch``: the live divergence report (docs/contract.md §10).

Modules, from the inside out: :mod:`~analysis.live.duration` (``--window``/``--every``
values), :mod:`~analysis.live.slices` (how capture time is cut), :mod:`~analysis.live.window`
(per-slice partials combined in two stacks), :mod:`~analysis.live.seen` (dedupe keys),
:mod:`~analysis.live.state` (records → settled groups → partials), :mod:`~analysis.live.index`
(the report's ``cids/``), :mod:`~analysis.live.alerts` (``--fail-on`` transitions and the
payload); the adapters :mod:`~analysis.live.reading`, :mod:`~analysis.live.publish`,
:mod:`~analysis.live.webhook` and :mod:`~analysis.live.metrics`; and
:mod:`~analysis.live.watcher`, the tick loop. Reading what is new is the sources' job
(:mod:`analysis.sources.tail`); reducing and reporting is the nightly report's own code.
"""
