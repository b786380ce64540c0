"""Jinja2 templates of the report service (a package so the files ship in the wheel)."""
