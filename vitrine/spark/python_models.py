"""dbt Python models on dbt-spark's `session` connection, in this process.

dbt-spark submits Python models only to Databricks (job_cluster, all_purpose_cluster). This module adds a
`session` submission method: the model's compiled code (dbt-spark's own: the model function, its `dbt` object, and
the write of its result as a table) runs here, against the Spark session that dbt-spark's SQL runs on. It relies on
dbt-spark's `python_submission_helpers` property and dbt's PythonJobHelper interface, which is why dbt-spark is
pinned exactly (pyproject.toml). The models ask for it with `submission_method: session` on the spark target
(python_models/*.yml); `vitrine build --target spark` and the nightly flow enable it before dbt runs. A plain `dbt`
command on the spark target cannot run them: dbt-spark refuses the method by name.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.base import PythonJobHelper

SUBMISSION_METHOD = "session"


class SessionPythonJobHelper(PythonJobHelper):
    """Runs a compiled dbt Python model in this process with `spark` bound to the process's Spark session."""

    def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
        self.name = str(parsed_model.get("alias") or parsed_model.get("name"))

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()  # dbt-spark's session: its cursor started it with the profile
        code = compile(compiled_code, f"<dbt python model {self.name}>", "exec")
        exec(code, {"__name__": f"dbt_python_model_{self.name}", "spark": spark})


def enable_session_python_models() -> None:
    """Register the `session` submission method with dbt-spark (idempotent)."""
    from dbt.adapters.spark.impl import SparkAdapter

    if getattr(SparkAdapter, "_vitrine_session_models", False):
        return
    original = SparkAdapter.python_submission_helpers

    def helpers(self: SparkAdapter) -> dict[str, type[PythonJobHelper]]:
        return {**original.fget(self), SUBMISSION_METHOD: SessionPythonJobHelper}

    SparkAdapter.python_submission_helpers = property(helpers)  # type: ignore[assignment,method-assign]
    SparkAdapter._vitrine_session_models = True  # type: ignore[attr-defined]
