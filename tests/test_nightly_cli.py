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
