"""The one exception type for mistakes a user can fix (bad input, missing model, offline hub).

The CLI prints its message as a single line on stderr and exits with status 2; everything else
is a bug and keeps its traceback.
"""


class XlingError(Exception):
    """A user-facing error: the message alone must tell the user what to do."""

    exit_code = 2


class ItemTooLong(XlingError):
    """An item that does not fit the model's context window, numbered among the items the scorer
    was given; `renumbered` names it among a run's items (the cache gives the scorer only the
    items it lacks, and "item 1" of a resumed run was item 4 of the data)."""

    def __init__(self, index: int, detail: str):
        self.index, self.detail = index, detail
        super().__init__(f"item {index + 1} {detail}")

    def renumbered(self, index: int) -> "ItemTooLong":
        return ItemTooLong(index, self.detail)


def did_you_mean(name: object, known) -> str:
    """" (did you mean X?)" for a near miss of one of the `known` names (a typo: "bleuu",
    "mt-chatt", "limt"), else ""."""
    import difflib

    by_lower = {str(k).lower(): str(k) for k in known}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.75)
    return f" (did you mean {by_lower[close[0]]}?)" if close else ""
