"""`vitrine nightly` and `vitrine serve` as a user calls them: clear one-line errors before anything runs."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from vitrine.cli import main


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_without_a_prefect_server_says_how_to_start_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    assert main(["serve", "--warehouse", str(tmp_path / "wh.duckdb"), "--cron", "0 2 * * *"]) == 1
    err = capsys.readouterr().err
    assert f"no Prefect server at {url}" in err and "prefect server start --host 127.0.0.1" in err


def test_nightly_refuses_a_retention_below_two_nights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nightly", "--warehouse", str(tmp_path / "wh.duckdb"), "--keep", "1"]) == 1
    assert "keep must be at least 2" in capsys.readouterr().err
    assert not (tmp_path / ".prefect").exists()  # nothing was started


def test_only_transient_failures_are_retried() -> None:
    import duckdb

    from vitrine.dbt_runner import DbtError
    from vitrine.ingest import IngestError
    from vitrine.nightly.steps import QualityGateError, is_transient

    assert is_transient(duckdb.IOException('Could not set lock on file "wh.duckdb": Conflicting lock is held'))
    assert is_transient(DbtError("`dbt build` failed: IO Error: Could not set lock on file"))
    assert is_transient(TimeoutError("read timed out"))
    assert not is_transient(QualityGateError("quality gate: 1 failed"))
    assert not is_transient(DbtError("`dbt build` failed: relationships_stg_visits_sale_id: fail"))
    assert not is_transient(IngestError("visits.csv is empty"))
