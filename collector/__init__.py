"""The collector sidecar: forwards mirrored or live requests and captures each exchange.

``shadowdiff collector`` builds a :class:`collector.settings.CollectorSettings`
and calls :func:`collector.server.serve`. See docs/collector.md.
"""
