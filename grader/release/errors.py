"""The error every release step raises for bad input; its message names the file and the fix."""


class ReleaseError(Exception):
    """A release cannot be built as asked."""
