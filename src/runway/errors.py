"""The one error family runway raises for problems the user can fix."""

from __future__ import annotations


class RunwayError(Exception):
    """A problem with the user's input or environment, reported as one line (exit code 2)."""


class ConfigError(RunwayError):
    """A config file that cannot be read, parsed or validated."""


class OutputError(RunwayError):
    """An output location that cannot be written."""
