"""The one exception of the ingester: a folder that cannot be loaded at all (nothing of it is committed)."""

from __future__ import annotations


class IngestError(Exception):
    """Raised before or during an ingest when the folder as a whole cannot be loaded; nothing is committed.

    ``problems`` lists every problem found (one line each, naming the file), so the user can fix them all at once.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)
