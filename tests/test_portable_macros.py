"""The engine-specific macros of dbt_project/macros/portable.sql against their portable defaults, on DuckDB.

The models only ever run the DuckDB implementations here; this renders both versions of a macro over the same rows
and checks that they agree, so that the default (what another engine runs) stays a faithful reference.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from vitrine.config import DBT_PROJECT_DIR, PROFILES_DIR
from vitrine.dbt_runner import dbt_on_warehouse

# groups 1 and 2 hold ties (broken by the smaller key); group 3 has fewer rows than n
ROWS = "(1, 10, 0.5, 'a'), (1, 11, 0.9, 'b'), (1, 12, 0.5, 'c'), (1, 13, 0.1, 'd'), " \
       "(2, 20, 1.0, 'e'), (2, 21, 1.0, 'f'), (2, 22, 1.0, 'g'), (3, 30, 0.25, 'h')"

SQL = f"""
with input as (
    select * from (values {ROWS}) as v(g, k, s, c)
),
portable as (
    select * from {{{{ vitrine.default__ranked_top_n('input', ['g'], 'k', 's', 2, ['c', 's'], 'r') }}}} as p
),
engine as (
    select * from {{{{ vitrine.duckdb__ranked_top_n('input', ['g'], 'k', 's', 2, ['c', 's'], 'r') }}}} as e
),
portable_keys as (
    select * from {{{{ vitrine.default__top_n_keys('input', ['g'], 'k', 's', 2, 'r') }}}} as p
),
engine_keys as (
    select * from {{{{ vitrine.duckdb__top_n_keys('input', ['g'], 'k', 's', 2, 'r') }}}} as e
)
select
    (select to_json(list(struct_pack(g, k, c, s, r) order by g, r)) from portable) as portable_top,
    (select to_json(list(struct_pack(g, k, c, s, r) order by g, r)) from engine) as engine_top,
    (select to_json(list(struct_pack(g, k, r) order by g, r)) from portable_keys) as portable_keys,
    (select to_json(list(struct_pack(g, k, r) order by g, r)) from engine_keys) as engine_keys
"""


def _compiled(tmp_path: Path) -> str:
    from dbt.cli.main import dbtRunner

    with dbt_on_warehouse(tmp_path / "macros.duckdb"):
        result = dbtRunner().invoke(["compile", "--inline", SQL, "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                                     "--profiles-dir", str(PROFILES_DIR)])
    assert result.success, result.exception
    return next(r.node.compiled_code for r in result.result.results)


def test_duckdb_macros_agree_with_their_portable_defaults(tmp_path: Path) -> None:
    with duckdb.connect() as con:
        portable, engine, portable_keys, engine_keys = (
            json.loads(v) for v in con.execute(_compiled(tmp_path)).fetchone()
        )
    assert engine == portable
    assert engine_keys == portable_keys == [{"g": row["g"], "k": row["k"], "r": row["r"]} for row in portable]
    assert [(row["g"], row["k"], row["r"]) for row in portable] == [
        (1, 11, 1), (1, 10, 2), (2, 20, 1), (2, 21, 2), (3, 30, 1)
    ]
    assert [row["c"] for row in portable] == ["b", "a", "e", "f", "h"]
