"""A BI-like reader, run as its own process by test_nightly_flow: it queries SERVING/current/serving.duckdb in a loop
until STOP exists and writes one JSON line per round to OUT: the night it saw, or the error it got.

Each round opens the serving copy read-only as a BI tool would, reads vitrine_night (run id and folder), counts every
table through its view and checks it against that night's manifest, and checks that every Parquet file carries the
same run id: a night mixing two runs, or missing a table, is an error.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb


def one_round(root: Path) -> dict[str, object]:
    db = root / "current" / "serving.duckdb"
    if not db.exists():
        return {"ok": True, "run_id": None}
    with duckdb.connect(str(db), read_only=True) as con:
        run_id, folder = con.execute("select run_id, folder from vitrine_night").fetchone()
        manifest = json.loads((Path(folder) / "manifest.json").read_text())
        views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
        problems = []
        if manifest["run_id"] != run_id:
            problems.append(f"manifest run {manifest['run_id']} != {run_id}")
        if views != set(manifest["tables"]):
            problems.append(f"views {sorted(views)} != tables {sorted(manifest['tables'])}")
        for table, entry in manifest["tables"].items():
            rows = con.execute(f'select count(*) from "{table}"').fetchone()[0]
            (tag,) = con.execute(
                "select value::varchar from parquet_kv_metadata(?) where key::varchar = 'vitrine_run_id'",
                [str(Path(folder) / entry["file"])],
            ).fetchone()
            if rows != entry["rows"] or tag != run_id:
                problems.append(f"{table}: {rows} rows (manifest {entry['rows']}), file of run {tag}")
    return {"ok": not problems, "run_id": run_id, "problems": problems}


def main(root: Path, out: Path, stop: Path) -> None:
    with open(out, "a") as handle:
        while not stop.exists():
            try:
                record = one_round(root)
            except Exception as exc:  # every error is a finding: record it
                record = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            time.sleep(0.05)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
