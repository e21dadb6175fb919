"""vitrine.publish on a small real DuckDB warehouse: the atomic switch, retention, manifests, failures, cleanup.

The whole nightly flow (dbt build, concurrent reader, killed run) is tested in test_nightly_flow.py.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from vitrine.publish import (
    CURRENT,
    NIGHTS,
    PublicTable,
    PublishError,
    content_hash,
    current_night,
    list_nights,
    public_tables,
    publish_night,
    verify_night,
)

TABLES = [PublicTable("recommender_scores", "main", "recommender_scores"),
          PublicTable("model_evaluation", "main", "model_evaluation")]


def _warehouse(path: Path, factor: float = 1.0) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"create or replace table recommender_scores as select (range % 7)::bigint as user_id, range as sale_id, "
            f"range * {factor} / 3.0 as cf_score from range(500)"
        )
        con.execute("create or replace table model_evaluation as select 'cf' as recommender, 0.25 as p_at_10")
    return path


def test_publish_serves_a_complete_night_through_a_read_only_duckdb(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path / "wh.duckdb")
    root = tmp_path / "serving"
    night = publish_night(wh, root, run_date=date(2026, 2, 15), run_id="run-a", tables=TABLES)

    assert (root / CURRENT).is_symlink() and (root / CURRENT).resolve() == night.path
    assert not os.path.isabs(os.readlink(root / CURRENT))  # relative: the folder can be moved as a whole
    served = current_night(root)
    assert served is not None and served.run_id == "run-a" and served.run_date == date(2026, 2, 15)
    assert served.tables["recommender_scores"]["rows"] == 500
    assert verify_night(served) == []
    with duckdb.connect(str(root / CURRENT / "serving.duckdb"), read_only=True) as con:
        assert con.execute("select count(*), sum(sale_id) from recommender_scores").fetchone() == (500, 124750)
        assert con.execute("select run_id from vitrine_night").fetchone() == ("run-a",)
        (run_id,) = con.execute(
            f"select value::varchar from parquet_kv_metadata('{night.path / 'tables/model_evaluation.parquet'}') "
            "where key::varchar = 'vitrine_run_id'"
        ).fetchone()
    assert run_id == "run-a"
    # BI tools read Parquet directly too; the published files are read-only.
    assert not os.access(night.path / "serving.duckdb", os.W_OK) or os.geteuid() == 0
    assert oct((night.path / "serving.duckdb").stat().st_mode & 0o777) == "0o444"


def test_each_publication_switches_and_only_the_last_nights_are_kept(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path / "wh.duckdb")
    root = tmp_path / "serving"
    published = [publish_night(wh, root, run_date=date(2026, 2, d), run_id=f"run-{d}", tables=TABLES, keep=2)
                 for d in (15, 16, 17)]
    assert current_night(root).run_id == "run-17"
    assert [n.run_id for n in list_nights(root)] == ["run-17", "run-16"]
    assert not published[0].path.exists()
    # Same content, different runs: the content hashes match (the file bytes need not).
    assert published[1].content_hash("recommender_scores") == published[2].content_hash("recommender_scores")


def test_a_failed_publication_leaves_the_previous_night_served(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path / "wh.duckdb")
    root = tmp_path / "serving"
    good = publish_night(wh, root, run_date=date(2026, 2, 15), run_id="good", tables=TABLES)
    broken = [*TABLES, PublicTable("home_page_rankings", "main", "home_page_rankings")]
    with pytest.raises(PublishError, match=r"missing from the warehouse .*home_page_rankings"):
        publish_night(wh, root, run_date=date(2026, 2, 16), run_id="bad", tables=broken)
    assert current_night(root).run_id == "good"
    assert [p.name for p in (root / NIGHTS).iterdir()] == [good.path.name]  # nothing half-written left behind
    with pytest.raises(PublishError, match="at least 2"):
        publish_night(wh, root, run_date=date(2026, 2, 16), run_id="x", tables=TABLES, keep=1)


def test_an_interrupted_publication_is_never_served_and_is_cleaned_up(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path / "wh.duckdb")
    root = tmp_path / "serving"
    publish_night(wh, root, run_date=date(2026, 2, 15), run_id="good", tables=TABLES)
    # What a process killed mid-publication leaves: a night folder with some files and no manifest.
    partial = root / NIGHTS / "2026-02-16_20260217T020000Z_killed00"
    (partial / "tables").mkdir(parents=True)
    (partial / "tables" / "recommender_scores.parquet").write_bytes(b"PAR1 half")
    (root / ".current.999.tmp").symlink_to(partial.relative_to(root))
    assert [n.run_id for n in list_nights(root)] == ["good"]
    assert current_night(root).run_id == "good"
    night = publish_night(wh, root, run_date=date(2026, 2, 16), run_id="next", tables=TABLES)
    assert not partial.exists() and not (root / ".current.999.tmp").is_symlink()
    assert current_night(root).path == night.path


def test_content_hash_ignores_row_order_but_not_values(tmp_path: Path) -> None:
    with duckdb.connect() as con:
        con.execute("create table a as select range as x, range / 7 as y from range(1000)")
        con.execute("create table b as select * from a order by random()")
        con.execute("create table c as select x, case when x = 500 then y + 1e-9 else y end as y from a")
        assert content_hash(con, "a")[:2] == content_hash(con, "b")[:2]
        assert content_hash(con, "a")[1] != content_hash(con, "c")[1]
        assert content_hash(con, "a")[0] == 1000


def test_verify_finds_a_changed_file_and_compares_rows_only_under_another_hash_method(tmp_path: Path) -> None:
    root = tmp_path / "serving"
    night = publish_night(_warehouse(tmp_path / "wh.duckdb"), root, run_date=date(2026, 2, 15), run_id="run-a",
                          tables=TABLES)
    table = night.path / night.tables["recommender_scores"]["file"]
    table.chmod(0o644)
    with duckdb.connect() as con:  # same rows, one value changed
        con.execute(f"copy (select user_id, sale_id, case when sale_id = 7 then cf_score + 1 else cf_score end "
                    f"as cf_score from read_parquet('{table}')) to '{table}.new' (format parquet)")
    os.replace(f"{table}.new", table)
    assert [p.split(":")[0] for p in verify_night(night)] == ["recommender_scores"]
    # hashes made by another method (or DuckDB version) cannot be compared: the row counts still are
    older = dict(night.manifest, hash_method="sha256(columns, rows, sum of md5 of each row as text)")
    assert verify_night(type(night)(night.path, older)) == []
    short = dict(older, tables={**older["tables"], "recommender_scores": {
        **older["tables"]["recommender_scores"], "rows": 499}})
    assert [p.split(":")[0] for p in verify_night(type(night)(night.path, short))] == ["recommender_scores"]


def test_public_tables_come_from_the_dbt_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.vitrine.recommender_scores": {"resource_type": "model", "name": "recommender_scores", "schema": "main",
                                             "alias": "recommender_scores", "tags": ["public"], "config": {}},
        "model.vitrine.int_cf_scores": {"resource_type": "model", "name": "int_cf_scores", "schema": "main",
                                        "alias": "int_cf_scores", "tags": [], "config": {}},
        "test.vitrine.x": {"resource_type": "test", "name": "x", "schema": "main", "tags": ["public"], "config": {}},
    }
    manifest.write_text(json.dumps({"nodes": nodes}))
    assert public_tables(manifest) == [PublicTable("recommender_scores", "main", "recommender_scores")]
    with pytest.raises(PublishError, match="no dbt manifest"):
        public_tables(tmp_path / "none.json")


def test_the_quality_gate_names_failures_first_and_needs_every_public_model() -> None:
    from vitrine.dbt_runner import DbtRun, NodeResult
    from vitrine.nightly.steps import QualityGateError, quality_gate

    ok = DbtRun(["dbt", "build"], True, [NodeResult("model.vitrine.recommender_scores", "model", "success", 1, None),
                                         NodeResult("model.vitrine.model_evaluation", "model", "success", 1, None),
                                         NodeResult("test.vitrine.t1", "test", "pass", 1, None),
                                         NodeResult("test.vitrine.t2", "test", "warn", 1, None)])
    assert quality_gate([ok], TABLES) == {"model:success": 2, "test:pass": 1, "test:warn": 1}
    bad = DbtRun(["dbt", "build"], False, [NodeResult("test.vitrine.rel", "test", "fail", 1, "Got 1 result"),
                                           *[NodeResult(f"model.vitrine.m{i}", "model", "skipped", 0, None)
                                             for i in range(30)]])
    with pytest.raises(QualityGateError, match=r"1 failed, 30 skipped: test.vitrine.rel fail \(Got 1 result\); "
                                               r"30 node\(s\) skipped"):
        quality_gate([ok, bad], TABLES)
    with pytest.raises(QualityGateError, match="public model recommender_scores was not built tonight"):
        quality_gate([DbtRun(["dbt", "build"], True, ok.nodes[1:])], TABLES)
