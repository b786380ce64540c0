"""shadowdiff: mirror live traffic to a shadow deployment and report where it differs."""

__version__ = "0.1.0"
