"""``shadowdiff replay``: captured primary traffic sent again to a candidate build (docs/contract.md §11).

A CI job has no production beside it, but it has last night's primary records:
each one holds the whole request and its correlation id. Replay sends those
requests, in ``captured_at`` order, to ``--target`` (and to a copy of the current
version, ``--secondary-target``, whose answers tell noise from change), captures
every answer as a ``shadowdiff.capture/1`` record under the original id, and
writes the ordinary report of the originals against the replays.

Where it lives, one concept per module:

- ``settings``: the typed settings, built once from the flags (every error names one);
- ``prepare``: which records are replayed and the request each becomes (pure);
- ``schedule``: the pacing of ``--rate`` (pure);
- ``order``: primary records in ``captured_at`` order with bounded memory
  (sorted runs spilled to disk, then a heap merge);
- ``send``: one request to one target through the collector's upstream client,
  turned into a record by the collector's record builder;
- ``loop``: the send loop: repeats, skips, pacing, ``--concurrency``, records written;
- ``outputs``: where replayed records and the replayed originals go (work files
  for the report, and ``--keep-records``);
- ``notes``: what the report says about skips and errors (pure);
- ``run``: the whole command, start to finish.

It composes the collector (HTTP client, record builder, sinks) and the analysis
(sources, report job), which may not import each other, so it sits here.
"""
