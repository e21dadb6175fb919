"""The `vitrine` command line as a user calls it: exit codes, errors in one line, the transfer commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from colour_photos import colour_folders

from vitrine.cli import main


def test_bad_arguments_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--out", str(tmp_path / "w"), "--users", "5", "--days", "2", "--sales-per-day", "1",
                 "--seed", "1", "--photos", str(tmp_path / "nope")])
    assert code == 2
    assert "simulate failed: photos" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path / "missing"), "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert "nothing loaded" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ingest", str(tmp_path), "--select", "x"])  # dbt arguments only pass through `build`


def test_transfer_train_then_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photos = colour_folders(tmp_path / "photos", 20)
    model = tmp_path / "head"
    assert main(["transfer", "train", "--photos", str(photos), "--out", str(model), "--split", "train"]) == 0
    capsys.readouterr()
    assert main(["transfer", "evaluate", "--photos", str(photos), "--model", str(model), "--split", "test",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["top1"] >= 0.9 and report["split"].startswith("test")
    assert main(["transfer", "evaluate", "--photos", str(tmp_path / "none"), "--model", str(model)]) == 2


def test_transfer_train_fine_tunes_with_an_epoch_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """--fine-tune-blocks trains the last blocks; the progress lines carry each epoch's loss and validation top-1;
    --multilabel gives a sigmoid head on class folders, scored per tag."""
    monkeypatch.setenv("VITRINE_PROGRESS", "log")
    photos = colour_folders(tmp_path / "photos", 6, size=48, seed=1)
    model = tmp_path / "fine"
    lines: list[str] = []
    monkeypatch.setattr("vitrine.progress.logger.info", lines.append)
    assert main(["transfer", "train", "--photos", str(photos), "--out", str(model), "--fine-tune-blocks", "1",
                 "--views", "2", "--epochs", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["params"]["fine_tune"]["blocks"] == 1 and report["epochs_run"] == 2
    assert json.loads((model / "model.json").read_text())["fine_tune_blocks"] == 1
    assert any("train: 2/2 epochs" in line and "val top-1" in line for line in lines), lines
    assert main(["transfer", "train", "--photos", str(photos), "--out", str(tmp_path / "tags"), "--multilabel",
                 "--epochs", "3"]) == 0
    capsys.readouterr()
    assert main(["transfer", "evaluate", "--photos", str(photos), "--model", str(tmp_path / "tags"), "--threshold",
                 "0.3", "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["mode"] == "multi" and scored["threshold"] == 0.3 and set(scored["per_class"]) == {"red", "blue"}
    assert main(["transfer", "train", "--photos", str(photos), "--out", str(tmp_path / "bad"), "--backbone", "vgg16",
                 "--weights", str(tmp_path / "none.h5"), "--fine-tune-blocks", "1"]) == 2
