"""``shadowdiff demo``: the whole pipeline on one machine, with planted differences.

``catalog`` holds the sample shop's data, ``apps`` its two versions (v1 the
primary, v2 the shadow with the regressions a report should find), ``traffic``
the request mix and the driver, ``procs`` the child-process bookkeeping, and
``orchestrator`` wires the real collectors, front door, report and service
together through their command lines.
"""
