"""dbt's documentation of the project: exposures (who reads the marts), shared doc blocks, and `vitrine docs`.

`dbt parse` (no warehouse needed) gives the manifest the exposure and description checks read; `vitrine docs` runs
`dbt docs generate --static` on the session's built world (conftest.scored_world).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from vitrine.cli import main
from vitrine.config import PROJECT_ROOT
from vitrine.dbt_runner import run_dbt
from vitrine.publish import public_tables

OWNER = {"name": "Vitrine analytics", "email": "analytics@vitrine.example"}
REPORT_SOURCES = PROJECT_ROOT / "vitrine" / "report"


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(path, contents) of the manifest of `dbt parse`, written in a folder of its own (not dbt_project/target)."""
    root = tmp_path_factory.mktemp("dbt_parse")
    run_dbt(["parse", "--target-path", str(root / "target")], warehouse=root / "never-created.duckdb")
    assert not (root / "never-created.duckdb").exists()  # parsing needs no warehouse
    path = root / "target" / "manifest.json"
    return path, json.loads(path.read_text())


def _exposure(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return manifest["exposures"][f"exposure.vitrine.{name}"]


def _names(unique_ids: list[str]) -> set[str]:
    return {uid.split(".")[-1] for uid in unique_ids}


def test_dbt_parse_declares_who_reads_the_marts(parsed: tuple[Path, dict[str, Any]]) -> None:
    _, manifest = parsed
    assert set(manifest["exposures"]) == {"exposure.vitrine.serving_copy", "exposure.vitrine.run_report"}
    for name, kind in (("serving_copy", "application"), ("run_report", "dashboard")):
        exposure = _exposure(manifest, name)
        assert exposure["type"] == kind
        assert {k: exposure["owner"][k] for k in OWNER} == OWNER
        assert exposure["description"] and exposure["label"]
        assert all(uid.startswith("model.vitrine.") for uid in exposure["depends_on"]["nodes"])


def test_the_serving_copy_exposure_depends_on_exactly_the_models_published(
    parsed: tuple[Path, dict[str, Any]],
) -> None:
    """One declaration, the `public` tag the nightly flow publishes by (publish.public_tables), and this check."""
    path, manifest = parsed
    published = {t.name for t in public_tables(path)}
    assert "recommender_scores" in published and "home_page_rankings" in published
    assert _names(_exposure(manifest, "serving_copy")["depends_on"]["nodes"]) == published


def test_the_run_report_exposure_depends_on_exactly_the_models_the_report_reads(
    parsed: tuple[Path, dict[str, Any]],
) -> None:
    """The report's code names what it reads: a published mart as a string ("home_page_rankings" in
    night.tables), a warehouse model as wh.main.<name> (or a string, _has(con, "stg_sales"))."""
    _, manifest = parsed
    source = "\n".join(p.read_text() for p in sorted(REPORT_SOURCES.rglob("*.py")))
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    named = models & {*re.findall(r"[\"'](\w+)[\"']", source), *re.findall(r"\bwh\.main\.(\w+)", source)}
    assert {"home_page_rankings", "stg_visits"} <= named
    assert _names(_exposure(manifest, "run_report")["depends_on"]["nodes"]) == named


def _documented(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, description) of every description the dbt project's models/ folder writes, doc blocks included."""
    items = []
    for node in [*manifest["nodes"].values(), *manifest["sources"].values(), *manifest["exposures"].values()]:
        if node["package_name"] != "vitrine" or not node["original_file_path"].startswith("models/"):
            continue
        items.append((node["unique_id"], node.get("description") or ""))
        items += [(f"{node['unique_id']}.{name}", column.get("description") or "")
                  for name, column in (node.get("columns") or {}).items()]
    items += [(d["unique_id"], d["block_contents"]) for d in manifest["docs"].values()
              if d["package_name"] == "vitrine"]
    return items


def test_shared_columns_are_described_once_in_a_doc_block(parsed: tuple[Path, dict[str, Any]]) -> None:
    _, manifest = parsed
    docs = {d["name"]: d["block_contents"].strip() for d in manifest["docs"].values() if d["package_name"] == "vitrine"}
    assert docs["user_id"] == "The customer's id (raw contract column `users.user_id`)."
    seen: dict[str, int] = {}
    for where, text in _documented(manifest):
        column = where.rsplit(".", 1)[-1]
        if column in {"user_id", "sale_id", "image_id", "scored_for"} and where.count(".") > 2:
            assert text.startswith(docs[column]), f"{where} does not use the {column} doc block: {text!r}"
            seen[column] = seen.get(column, 0) + 1
    assert min(seen.values()) >= 5, seen


def test_the_person_is_a_customer_in_prose(parsed: tuple[Path, dict[str, Any]]) -> None:
    """One word for one thing: "customer" in descriptions; user_id, users (the contract's names) stay identifiers."""
    _, manifest = parsed
    for where, text in _documented(manifest):
        prose = re.sub(r"\b\w*[_.]\w*\b", " ", re.sub(r"`[^`]*`", " ", text))  # without identifiers
        assert not re.search(r"\busers?\b|\buser's\b", prose, re.I), f"{where} says user: {text!r}"


def test_vitrine_docs_writes_a_static_page_of_the_built_warehouse(
    scored_world: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    warehouse, _ = scored_world
    target = tmp_path / "docs"
    assert main(["docs", "--warehouse", str(warehouse), "--target-path", str(target)]) == 0
    page = target / "static_index.html"
    assert f"open {page} in a browser" in capsys.readouterr().out
    html = page.read_text()
    # one file: the manifest (exposures, doc blocks) and the catalog (the warehouse's columns) are inside it
    assert "serving_copy" in html and "Vitrine analytics" in html
    assert "raw contract column" in html
    catalog = json.loads((target / "catalog.json").read_text())
    assert "model.vitrine.recommender_scores" in catalog["nodes"]
    assert "user_id" in catalog["nodes"]["model.vitrine.recommender_scores"]["columns"]


def test_vitrine_docs_without_a_warehouse_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none" / "vitrine.duckdb"
    assert main(["docs", "--warehouse", str(missing), "--target-path", str(tmp_path / "docs")]) == 2
    error = capsys.readouterr().err
    assert f"no warehouse at {missing} yet" in error and "make demo" in error
    assert not missing.exists() and not (tmp_path / "docs").exists()
