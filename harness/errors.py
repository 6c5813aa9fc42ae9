"""Errors that end a command with one line on stderr (and never a traceback)."""


class CliError(Exception):
    """A user mistake or an unusable input: printed as one line, exit code 2."""
