"""pypimirror: a PyPI mirror network portal (mirror node and network hub)."""

# The version a node reports to its hub (apps/replication/hub_report.py); pyproject.toml's.
__version__ = "0.1.0"
