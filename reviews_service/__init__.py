"""Self-hosted reviews and social-proof aggregation service."""

__version__ = "0.1.0"
