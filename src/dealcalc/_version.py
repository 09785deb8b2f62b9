"""The package version, in one place (read by the API, the CLI and every result's record)."""

__version__ = "0.1.0"
