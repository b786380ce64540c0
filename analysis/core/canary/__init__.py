"""The canary verdict (docs/contract.md §9), as pure functions over plain data.

Records of both arms (role ``primary``, told apart by ``deployment`` or by the
source they came from) go through the report's engine (:mod:`analysis.engine`)
unchanged: the same scan, spill by correlation id, dedupe and window; only the
per-bucket reduction differs (:class:`~analysis.core.canary.reducer.CanaryReduction`).
Each bucket becomes a :class:`~analysis.core.canary.partial.CanaryPartial` of
per-endpoint, per-arm counts, latency sketches and JSON shapes; partials merge
associatively, so the local and Dask engines give the same verdict;
:mod:`analysis.core.canary.verdict` turns the merged partial into ``canary.json``.
"""
