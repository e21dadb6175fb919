"""The one Spark session of a Vitrine process, configured as the dbt profile's `spark` target configures it.

dbt-spark's session mode builds its SparkSession from the profile's server_side_parameters with getOrCreate(): a
session this module starts first is the one dbt then uses, so the raw copy, the dbt build and the Python models
share one JVM (Spark's start is most of a small build's time). The settings come from the environment, as the
profile reads them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from vitrine.config import PROFILES_DIR

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The environment the profile reads (profiles.yml, output `spark`).
SPARK_DIR_ENV = "VITRINE_SPARK_DIR"


def spark_dir_for(warehouse: Path) -> Path:
    """Where the in-process Spark keeps its tables and metastore for a DuckDB warehouse file: beside it."""
    return warehouse.resolve().parent / f"{warehouse.stem}.spark"


def spark_settings(spark_dir: Path) -> dict[str, str]:
    """The session's configuration: the server_side_parameters of profiles.yml's `spark` output, rendered as dbt
    renders them (env_var), with VITRINE_SPARK_DIR = `spark_dir`."""
    import jinja2
    import yaml

    profile = yaml.safe_load((PROFILES_DIR / "profiles.yml").read_text())
    parameters = profile["vitrine"]["outputs"]["spark"]["server_side_parameters"]
    env = {**os.environ, SPARK_DIR_ENV: str(spark_dir)}

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise KeyError(f"profiles.yml reads the environment variable {name}, which is not set")
        return default

    return {key: jinja2.Template(str(value)).render(env_var=env_var) for key, value in parameters.items()}


@contextmanager
def spark_target(warehouse: Path) -> Iterator[Path]:
    """Point the profile's spark output at the Spark folder of `warehouse` for the duration (VITRINE_SPARK_DIR)."""
    spark_dir = spark_dir_for(warehouse)
    _check_active_session(spark_dir)
    spark_dir.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get(SPARK_DIR_ENV)
    os.environ[SPARK_DIR_ENV] = str(spark_dir)
    # the Python workers (the image labelling's mapInPandas) run this interpreter, with the vitrine package
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        yield spark_dir
    finally:
        if previous is None:
            os.environ.pop(SPARK_DIR_ENV, None)
        else:
            os.environ[SPARK_DIR_ENV] = previous


def _check_active_session(spark_dir: Path) -> None:
    """A process has one Spark session, configured once: refuse to point it at another metastore than its own."""
    if "pyspark" not in sys.modules:
        return
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        return
    key = "spark.hadoop.javax.jdo.option.ConnectionURL"
    wanted, serving = spark_settings(spark_dir)[key], active.conf.get(key, None)
    if serving is not None and serving != wanted:
        raise RuntimeError(
            f"this process's Spark session uses the metastore {serving}, not {wanted}: a process serves one Spark "
            "warehouse (start another process for another warehouse file)"
        )


def spark_session(spark_dir: Path) -> SparkSession:
    """The process's Spark session (started on first use with spark_settings(spark_dir))."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_settings(spark_dir).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
