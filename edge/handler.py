"""Lambda@Edge viewer-request entry point (being built)."""
