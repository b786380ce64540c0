"""The Lambda@Edge viewer-request function that mirrors live traffic (standard library only).

Entry point ``edge.handler.handler``; see docs/edge.md.
"""
