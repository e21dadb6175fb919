"""What one ingest did: per table and per file rows read / accepted / rejected, skipped and ignored files.

Invariant, asserted before the ingest commits: rows read = rows accepted + rows rejected, per file and table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


def _assert_balanced(what: str, read: int, accepted: int, rejected: int) -> None:
    if read != accepted + rejected:
        raise AssertionError(f"{what}: rows read {read} != accepted {accepted} + rejected {rejected}")


@dataclass
class FileReport:
    """One file of the folder and what happened to it."""

    table: str
    path: str  # relative to the ingest folder
    sha256: str
    status: Literal["loaded", "skipped"]
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    skip_reason: str | None = None
    extra_columns: tuple[str, ...] = ()  # in the file, not in the contract: ignored
    missing_optional_columns: tuple[str, ...] = ()  # optional contract columns the file lacks: loaded as NULL
    notes: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Assert rows read = accepted + rejected (an AssertionError even under ``python -O``)."""
        _assert_balanced(self.path, self.rows_read, self.rows_accepted, self.rows_rejected)


@dataclass
class TableReport:
    """The files of one contract table in this ingest."""

    table: str
    files: list[FileReport] = field(default_factory=list)
    top_reasons: list[tuple[str, int]] = field(default_factory=list)  # reject reasons by kind, most frequent first

    @property
    def loaded_files(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "loaded"]

    @property
    def skipped_files(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "skipped"]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_accepted(self) -> int:
        return sum(f.rows_accepted for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    def check(self) -> None:
        """Assert rows read = accepted + rejected for every file and for the table."""
        for f in self.files:
            f.check()
        _assert_balanced(self.table, self.rows_read, self.rows_accepted, self.rows_rejected)


@dataclass
class IngestReport:
    """The result of ``ingest_folder``. ``batch_id`` is None when every file had been ingested before."""

    batch_id: int | None
    source_dir: str
    images_root: str | None
    warehouse: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def check(self) -> None:
        """Assert rows read = accepted + rejected for every file and table."""
        for t in self.tables.values():
            t.check()

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables.values())

    @property
    def rows_accepted(self) -> int:
        return sum(t.rows_accepted for t in self.tables.values())

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())

    @property
    def notes(self) -> list[str]:
        out: list[str] = []
        for t in self.tables.values():
            for f in t.files:
                if f.extra_columns:
                    out.append(f"{f.path}: extra column(s) ignored: {', '.join(f.extra_columns)}")
                if f.missing_optional_columns:
                    out.append(
                        f"{f.path}: optional column(s) absent, loaded as NULL: " + ", ".join(f.missing_optional_columns)
                    )
                out.extend(f.notes)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable), with per-table totals."""
        return {
            "batch_id": self.batch_id,
            "source_dir": self.source_dir,
            "images_root": self.images_root,
            "warehouse": self.warehouse,
            "seconds": round(self.seconds, 3),
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "tables": {
                name: {
                    "rows_read": t.rows_read,
                    "rows_accepted": t.rows_accepted,
                    "rows_rejected": t.rows_rejected,
                    "skipped_files": [f.path for f in t.skipped_files],
                    "top_reasons": [list(r) for r in t.top_reasons],
                    "files": [
                        {
                            **asdict(f),
                            "extra_columns": list(f.extra_columns),
                            "missing_optional_columns": list(f.missing_optional_columns),
                        }
                        for f in t.files
                    ],
                }
                for name, t in self.tables.items()
            },
            "ignored": list(self.ignored),
            "notes": self.notes,
        }

    def format_table(self) -> str:
        """A plain-text summary: one line per table, then skipped/ignored files, reject reasons and notes."""
        batch = f"batch {self.batch_id}" if self.batch_id is not None else "nothing new (no batch)"
        lines = [f"Ingest {batch} from {self.source_dir} into {self.warehouse} in {self.seconds:.1f} s"]
        if self.images_root:
            lines.append(f"Image root: {self.images_root}")
        header = ("table", "files", "skipped", "read", "accepted", "rejected")
        rows = [header]
        for t in self.tables.values():
            rows.append(
                (
                    t.table,
                    str(len(t.loaded_files)),
                    str(len(t.skipped_files)),
                    f"{t.rows_read:,}",
                    f"{t.rows_accepted:,}",
                    f"{t.rows_rejected:,}",
                )
            )
        rows.append(
            (
                "total",
                str(sum(len(t.loaded_files) for t in self.tables.values())),
                str(sum(len(t.skipped_files) for t in self.tables.values())),
                f"{self.rows_read:,}",
                f"{self.rows_accepted:,}",
                f"{self.rows_rejected:,}",
            )
        )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for n, r in enumerate(rows):
            lines.append(
                "  ".join(r[0].ljust(widths[0]) if i == 0 else r[i].rjust(widths[i]) for i in range(len(r))).rstrip()
            )
            if n == 0 or n == len(rows) - 2:
                lines.append("  ".join("-" * w for w in widths))
        for t in self.tables.values():
            for f in t.skipped_files:
                lines.append(f"skipped {f.path}: {f.skip_reason}")
        for t in self.tables.values():
            if t.top_reasons:
                shown = "; ".join(f"{reason} ({n:,})" for reason, n in t.top_reasons)
                lines.append(f"rejects in {t.table}: {shown}")
        if self.ignored:
            lines.append("ignored: " + ", ".join(self.ignored))
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)
