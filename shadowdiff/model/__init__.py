"""The ground floor every other part stands on: the capture record and its rules.

``record`` (the ``shadowdiff.capture/1`` model), ``validate`` (one reason per
invalid line), ``layout`` (the partition layout), ``locations`` (``SRC``/``SINK``
strings), ``timefmt`` (RFC 3339 with milliseconds) and ``errors`` (the error
tree). It imports no web, AWS or other shadowdiff package (an import-linter
contract in ``pyproject.toml``), so the collector, the analysis and the CLI
can all build on it. The record's JSON Schema ships beside it, in ``schemas/``.
"""
