"""The dbt project's conventions, checked on its files: documented models, tested keys, the contract, portability."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from vitrine.config import DBT_PROJECT_DIR, PROJECT_ROOT
from vitrine.contract import TABLES

MODEL_DIRS = [DBT_PROJECT_DIR / "models", PROJECT_ROOT / "python_models"]


def _yaml_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])


def _model_entries() -> dict[str, tuple[Path, dict]]:
    entries: dict[str, tuple[Path, dict]] = {}
    for root in MODEL_DIRS:
        for path in root.rglob("*.y*ml"):
            for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
                entries[model["name"]] = (path, model)
    return entries


def _model_files() -> list[Path]:
    return sorted(p for root in MODEL_DIRS for p in [*root.rglob("*.sql"), *root.rglob("*.py")])


def _test_names(tests: list) -> set[str]:
    return {t if isinstance(t, str) else next(iter(t)) for t in tests or []}


def test_raw_sources_describe_exactly_the_contract() -> None:
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models" / "staging" / "_raw__sources.yml").read_text())
    raw = next(s for s in sources["sources"] if s["name"] == "raw")
    tables = {t["name"]: t for t in raw["tables"]}
    for table in TABLES:
        assert table.name in tables, f"source raw.{table.name} missing"
        described = [c["name"] for c in tables[table.name]["columns"]]
        assert described == list(table.column_names), table.name
    for event in ("visits", "purchases"):
        assert tables[event]["config"]["freshness"]["error_after"], event


def test_every_model_is_documented_in_a_yaml_file_of_its_folder() -> None:
    entries = _model_entries()
    files = _model_files()
    assert files, "no models found"
    folders: dict[str, set[Path]] = {}
    for path in files:
        folders.setdefault(path.stem, set()).add(path.parent)
    duplicated = sorted(name for name, found in folders.items() if len(found) > 1)
    assert not duplicated, f"models of the same name in several folders: {duplicated}"
    for path in files:
        name = path.stem
        assert name in entries, f"{path} has no YAML entry"
        yml_path, model = entries[name]
        assert yml_path.parent in folders[name], f"{name} is documented in {yml_path}, not in its folder"
        assert model.get("description"), f"{name} has no description"
        for column in model.get("columns", []):
            assert column.get("description"), f"{name}.{column['name']} has no description"


def test_every_model_has_a_tested_primary_key() -> None:
    for name, (_, model) in _model_entries().items():
        keyed_columns = [
            c["name"] for c in model.get("columns", [])
            if {"unique", "not_null"} <= _test_names(c.get("data_tests"))
        ]
        composite = "unique_combination_of_columns" in _test_names(model.get("data_tests"))
        assert keyed_columns or composite, f"{name} has no primary key test (unique + not_null)"


def test_staging_models_follow_the_naming_convention() -> None:
    for path in (DBT_PROJECT_DIR / "models" / "staging").glob("*.sql"):
        assert path.stem.startswith("stg_"), path


# DuckDB-only syntax that must stay inside adapter.dispatch macros so that the models also run on Spark.
NON_PORTABLE = {
    "QUALIFY": re.compile(r"\bqualify\b", re.I),
    "::cast": re.compile(r"::\s*\w"),
    "list functions": re.compile(r"\blist_\w+\s*\(", re.I),
    "date_diff/date_add": re.compile(r"\bdate_(diff|add|sub)\s*\(", re.I),
    "SELECT * EXCLUDE/REPLACE": re.compile(r"\*\s*(exclude|replace)\s*\(", re.I),
}


@pytest.mark.parametrize("path", sorted((DBT_PROJECT_DIR / "models").rglob("*.sql")), ids=lambda p: p.name)
def test_models_use_portable_sql(path: Path) -> None:
    text = path.read_text()
    for what, pattern in NON_PORTABLE.items():
        assert not pattern.search(text), f"{path.name} uses {what}: put it in an adapter.dispatch macro"


def test_project_config_turns_telemetry_off() -> None:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["flags"]["send_anonymous_usage_stats"] is False
    assert "../python_models" in project["model-paths"]
    assert project["seed-paths"] == ["../seeds"]
