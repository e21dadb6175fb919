"""The Spark target: the same night, built on Apache Spark, publishes what the DuckDB build publishes.

The DuckDB night is the shared first night (tests/nightly_world.py); the Spark night runs `vitrine nightly`'s flow
with target spark on the same landing files, in this process's one Spark session (local[2], its tables and
metastore beside its own warehouse file). Both publications are compared table by table: the same columns and
types, the same keys, floating-point values within 1e-9. A standalone cluster (a master and a worker from
PySpark's own jars, on 127.0.0.1) builds the staging models in a `vitrine build` subprocess.

Needs PySpark (the `spark` extra) and a Java runtime; skipped without them unless VITRINE_REQUIRE_SPARK is set
(`make test` installs both and sets it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from nightly_world import FirstNight, first_night

from vitrine.publish import Night, current_night

TOLERANCE = 1e-9
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def _require_spark() -> None:
    problems = []
    try:
        import pyspark  # noqa: F401
    except ImportError:
        problems.append("PySpark is not installed (the `spark` extra: make env installs it)")
    if shutil.which("java") is None:
        problems.append("no Java runtime on PATH (`make java` installs OpenJDK 17)")
    if problems:
        message = "; ".join(problems)
        if os.environ.get("VITRINE_REQUIRE_SPARK"):
            pytest.fail(message + "; VITRINE_REQUIRE_SPARK is set, so this is an error")
        pytest.skip(message)


def test_the_session_settings_are_the_profiles(monkeypatch, tmp_path):
    """vitrine.spark.session starts Spark with the spark output of profiles.yml, rendered for the warehouse's folder
    (no PySpark needed)."""
    from vitrine.spark.session import spark_dir_for, spark_settings

    monkeypatch.setenv("VITRINE_SPARK_MASTER", "spark://10.0.0.1:7077")
    monkeypatch.delenv("VITRINE_SPARK_WAREHOUSE_DIR", raising=False)
    spark_dir = spark_dir_for(tmp_path / "night.duckdb")
    assert spark_dir == tmp_path / "night.spark"
    settings = spark_settings(spark_dir)
    assert settings["spark.master"] == "spark://10.0.0.1:7077"
    assert settings["spark.sql.warehouse.dir"] == f"{spark_dir}/tables"
    assert f"databaseName={spark_dir}/metastore_db" in settings["spark.hadoop.javax.jdo.option.ConnectionURL"]


def test_an_unknown_target_is_refused(tmp_path):
    from vitrine.cli import main
    from vitrine.dbt_runner import run_dbt
    from vitrine.nightly.settings import NightlySettings

    with pytest.raises(ValueError, match="unknown target 'oracle'"):
        NightlySettings.resolve(warehouse=tmp_path / "w.duckdb", target="oracle")
    with pytest.raises(ValueError, match="unknown target 'oracle'"):
        run_dbt(["debug"], warehouse=tmp_path / "w.duckdb", target="oracle")
    with pytest.raises(SystemExit):
        main(["build", "--target", "oracle"])


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[FirstNight, Night, dict[str, Any]]:
    """(the DuckDB night, the same night published from Spark, the Spark night's summary)."""
    _require_spark()
    from vitrine.nightly.run import run_nightly

    duck = first_night()
    root = tmp_path_factory.mktemp("spark_night")
    summary = run_nightly(run_date=duck.run_date, landing=duck.world.out, warehouse=root / "wh" / "vitrine.duckdb",
                          serving=root / "serving", target="spark")
    night = current_night(root / "serving")
    assert night is not None
    return duck, night, summary


def _columns(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple[str, str]]:
    return [(name, str(kind)) for name, kind, *_ in con.execute(f"describe select * from {source}").fetchall()]


def test_the_spark_night_publishes_every_public_mart_of_the_duckdb_night(nights):
    duck, night, summary = nights
    published = current_night(duck.serving)
    assert published is not None
    assert summary["status"] == "published" and summary["run_date"] == duck.summary["run_date"]
    assert set(night.tables) == set(published.tables)
    assert "raw to spark" in summary["step_seconds"]
    assert (night.path / "serving.duckdb").is_file() and (night.path / "report" / "index.html").is_file()


def test_spark_and_duckdb_publish_the_same_marts(nights):
    duck, night, _ = nights
    published = current_night(duck.serving)
    assert published is not None
    con = duckdb.connect()
    compared = []
    for table in sorted(published.tables):
        left = f"read_parquet('{published.path / 'tables' / f'{table}.parquet'}')"
        right = f"read_parquet('{night.path / 'tables' / f'{table}.parquet'}')"
        columns = _columns(con, left)
        assert _columns(con, right) == columns, f"{table}: the columns or their types differ"
        floats = [name for name, kind in columns if kind in FLOAT_TYPES]
        keys = [name for name, kind in columns if name not in floats]
        order = ", ".join(f'"{k}"' for k in keys) or "1"
        a = con.execute(f"select * from {left} order by {order}").df()
        b = con.execute(f"select * from {right} order by {order}").df()
        assert len(a) == len(b), f"{table}: {len(a)} rows on DuckDB, {len(b)} on Spark"
        for name in keys:
            same = (a[name].astype(str) == b[name].astype(str)).all()
            assert same, f"{table}.{name} differs:\n{a[name].compare(b[name]).head()}"
        for name in floats:
            x, y = a[name].to_numpy(dtype=float), b[name].to_numpy(dtype=float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), f"{table}.{name}: nulls differ"
            both = ~np.isnan(x)
            gap = np.abs(x[both] - y[both]) / np.maximum(1.0, np.abs(x[both]))
            assert gap.size == 0 or gap.max() <= TOLERANCE, f"{table}.{name} differs by up to {gap.max()}"
        compared.append((table, len(a)))
    rows = dict(compared)
    assert rows["home_page_rankings"] > 0 and rows["recommender_scores"] > 0 and rows["meta_models"] > 0


def _snapshot(spark: Any, table: str) -> Any:
    frame = spark.table(f"vitrine.{table}").toPandas()
    text = frame.astype(str)
    return text.sort_values(list(text.columns)).reset_index(drop=True)


def test_a_spark_rebuild_recomputes_a_stale_day_and_keeps_the_rest(nights):
    """The incremental models rebuilt on Spark: the as-of models drop a stale day's partition and recompute it, the
    Python fits overwrite tonight's rows, the labelling labels nothing twice; every table ends as it was."""
    duck, night, _ = nights
    from vitrine.dbt_runner import run_dbt
    from vitrine.spark.session import spark_session, spark_target

    warehouse = night.path.parents[2] / "wh" / "vitrine.duckdb"
    incremental = ["int_sale_popularity", "int_open_sales", "int_training_pairs", "int_daily_visits", "stg_visits",
                   "int_theme_fits", "int_meta_fits", "int_image_inference"]
    with spark_target(warehouse) as spark_dir:
        spark = spark_session(spark_dir)
        before = {table: _snapshot(spark, table) for table in incremental}
        day = spark.sql("select max(scored_for) from vitrine.int_sale_popularity").collect()[0][0]
        # a day whose rows are stale: a second copy of them under a key the day no longer has
        stale = spark.table("vitrine.int_sale_popularity").where(f"scored_for = date '{day}'")
        stale.withColumn("inputs_key", stale["inputs_key"].substr(1, 0)).write.insertInto("vitrine.int_sale_popularity")
        assert spark.table("vitrine.int_sale_popularity").count() > len(before["int_sale_popularity"])
    run = run_dbt(["build", "--select", *incremental, "--exclude", "test_type:unit",
                   "--vars", json.dumps({"run_date": duck.run_date.isoformat()})], warehouse=warehouse, target="spark")
    assert run.success and not run.failures()
    with spark_target(warehouse) as spark_dir:
        spark = spark_session(spark_dir)
        for table in incremental:
            after = _snapshot(spark, table)
            assert after.equals(before[table]), f"{table} changed on a rebuild"
    # the process's one session serves this warehouse: pointing it at another one is refused
    with pytest.raises(RuntimeError, match="a process serves one Spark warehouse"), \
            spark_target(warehouse.parent / "another.duckdb"):
        pass


# -- a standalone cluster ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spark_class(*args: str, log: Path) -> subprocess.Popen[bytes]:
    import pyspark

    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    handle = open(log, "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen([str(home / "bin" / "spark-class"), *args], stdout=handle, stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A master and one worker (2 cores, 2 GiB) on 127.0.0.1; yields the master's URL and its web UI's."""
    _require_spark()
    port, ui, worker_ui = _free_port(), _free_port(), _free_port()
    master = _spark_class("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                          "--webui-port", str(ui), log=tmp_path / "master.log")
    url = f"spark://127.0.0.1:{port}"
    worker = _spark_class("org.apache.spark.deploy.worker.Worker", url, "--cores", "2", "--memory", "2g",
                          "--webui-port", str(worker_ui), "--work-dir", str(tmp_path / "work"),
                          log=tmp_path / "worker.log")
    state = f"http://127.0.0.1:{ui}/json/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(state, timeout=5) as response:
                    if json.load(response).get("aliveworkers", 0) >= 1:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the standalone cluster did not come up:\n{(tmp_path / 'master.log').read_text()}"
                            f"\n{(tmp_path / 'worker.log').read_text()}")
            time.sleep(1)
        yield {"master": url, "state": state, "work": tmp_path / "work"}
    finally:
        for process in (worker, master):
            process.terminate()
        for process in (worker, master):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_standalone_cluster_builds_the_models_on_its_worker(cluster, tmp_path):
    duck = first_night()
    warehouse = tmp_path / "vitrine.duckdb"
    shutil.copy(duck.warehouse, warehouse)  # the raw batches ingested (the build copies them to Spark)
    env = {**os.environ, "VITRINE_SPARK_MASTER": cluster["master"], "SPARK_LOCAL_IP": "127.0.0.1"}
    done = subprocess.run(
        [sys.executable, "-m", "vitrine.cli", "build", "--target", "spark", "--warehouse", str(warehouse),
         "--select", "stg_sales", "stg_visits", "int_daily_visits"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "model:success=3" in done.stdout
    tables = warehouse.parent / "vitrine.spark" / "tables" / "vitrine.db"
    assert list((tables / "int_daily_visits").rglob("*.parquet")), "int_daily_visits has no data files"
    with urllib.request.urlopen(cluster["state"], timeout=5) as response:
        apps = json.load(response)["completedapps"]
    assert [app["name"] for app in apps] == ["vitrine"], apps
    executors = list(cluster["work"].glob("app-*/*/stderr"))
    assert executors, "no executor ran on the worker"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        visits = con.execute("select count(*) from raw.visits").fetchone()[0]
    assert visits > 0
