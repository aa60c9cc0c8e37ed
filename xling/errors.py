"""The one exception type for mistakes a user can fix (bad input, missing model, offline hub).

The CLI prints its message as a single line on stderr and exits with status 2; everything else
is a bug and keeps its traceback.
"""


class XlingError(Exception):
    """A user-facing error: the message alone must tell the user what to do."""

    exit_code = 2
