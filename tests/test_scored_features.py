"""The scored features are declared once, in dbt_project/macros/recommenders.sql (scored_recommenders,
scored_signals, scored_feature_columns, single_recommenders). The models read the macros; the lists that cannot
read them are checked against them here: the columns of every model YAML that lists a recommender's column (each
with its doc block), the meta_features var of dbt_project.yml, seeds/explanation_phrases.csv, the recommender
values int_evaluation_ranks accepts, and the columns of the built tables.

The declaration comes from dbt itself (`dbt compile --inline`), so a new recommender in the macro makes every list
below that misses it fail, by file and column.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from vitrine.config import DBT_PROJECT_DIR, PROFILES_DIR, PROJECT_ROOT
from vitrine.dbt_runner import dbt_on_warehouse

DECLARATION = """{{ tojson({
    'recommenders': scored_recommenders() | map(attribute='name') | list,
    'signals': scored_signals(),
    'columns': scored_feature_columns(),
    'singles': single_recommenders(),
    'meta_features': var('meta_features'),
    'meta_image_features': var('meta_image_features'),
}) }}"""

# The tables that hold every scored feature, in the declared order (each also checked wherever its YAML lives).
FEATURE_TABLES = ("int_candidate_features", "int_training_examples", "training_examples", "recommender_scores")
# int_evaluation_ranks ranks the single recommenders and these, in this order.
META_RECOMMENDERS = ["meta", "meta_no_image"]
MODEL_DIRS = (DBT_PROJECT_DIR / "models", PROJECT_ROOT / "python_models")
DOCS = DBT_PROJECT_DIR / "models" / "docs.md"
PHRASES = PROJECT_ROOT / "seeds" / "explanation_phrases.csv"
# Columns named like a recommender's score or rank that are not one: the meta model's and the evaluation's.
NOT_RECOMMENDER_COLUMNS = {"meta_score", "meta_no_image_score", "score_rank"}


@dataclass(frozen=True)
class Declaration:
    recommenders: list[str]
    signals: list[str]
    columns: list[str]  # scored_feature_columns(): the scores, the ranks, the signals
    singles: list[tuple[str, str, str]]  # (name, score expression, explanation feature)
    meta_features: dict[str, str]
    meta_image_features: list[str]

    @property
    def scores(self) -> list[str]:
        return [f"{r}_score" for r in self.recommenders]

    @property
    def ranks(self) -> list[str]:
        return [f"{r}_rank" for r in self.recommenders]


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> Declaration:
    """The declaration as dbt renders it (its own target and log folders: the project's stay untouched)."""
    from dbt.cli.main import dbtRunner

    root = tmp_path_factory.mktemp("scored_features")
    with dbt_on_warehouse(root / "never-built.duckdb"):
        result = dbtRunner().invoke([
            "compile", "--inline", DECLARATION, "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(PROFILES_DIR), "--target-path", str(root / "target"), "--log-path", str(root)])
    assert result.success, result.exception
    data = json.loads(next(r.node.compiled_code for r in result.result.results))
    declaration = Declaration(
        recommenders=data["recommenders"], signals=data["signals"], columns=data["columns"],
        singles=[tuple(s) for s in data["singles"]], meta_features=data["meta_features"],
        meta_image_features=data["meta_image_features"])
    assert declaration.columns == [*declaration.scores, *declaration.ranks, *declaration.signals]
    return declaration


def _looks_like_a_recommender_column(column: str) -> bool:
    return column.endswith(("_score", "_rank")) and column not in NOT_RECOMMENDER_COLUMNS


def _feature_problems(where: str, listed: list[str], d: Declaration, *, whole: bool = False) -> list[str]:
    """What is wrong with the feature columns among `listed` (a table's columns, in order): a table that holds the
    recommenders' scores and ranks (or `whole`, one of FEATURE_TABLES) holds exactly the declared columns, in the
    declared order; one that holds only scores, or only ranks, holds all of them. A column named like a
    recommender's score or rank that is not declared is extra."""
    problems = [f"{where}: extra column {c}, not a declared scored feature (macros/recommenders.sql)"
                for c in listed if _looks_like_a_recommender_column(c) and c not in d.columns]
    has_scores = bool(set(listed) & set(d.scores))
    has_ranks = bool(set(listed) & set(d.ranks))
    partial = d.scores if has_scores else d.ranks
    expected = d.columns if whole or (has_scores and has_ranks) else partial
    features = [c for c in listed if c in expected]
    problems += [f"{where}: missing column {c}" for c in expected if c not in features]
    if not problems and features != expected:
        problems.append(f"{where}: the feature columns are not in the declared order: {features} != {expected}")
    return problems


def _model_entries() -> list[tuple[Path, dict]]:
    return [
        (path, model)
        for root in MODEL_DIRS for path in sorted(root.rglob("*.y*ml"))
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []) or []
    ]


def _lists_recommender_columns(model: dict, d: Declaration) -> bool:
    names = {c["name"] for c in model.get("columns", []) or []}
    return bool(names & {*d.scores, *d.ranks})


def test_every_yaml_that_lists_a_recommender_column_lists_exactly_the_declared_ones(declared: Declaration) -> None:
    problems: list[str] = []
    found: dict[str, list[Path]] = {}
    for path, model in _model_entries():
        if model["name"] not in FEATURE_TABLES and not _lists_recommender_columns(model, declared):
            continue
        found.setdefault(model["name"], []).append(path)
        where = f"{path.relative_to(PROJECT_ROOT)} ({model['name']})"
        columns = model.get("columns", []) or []
        problems += _feature_problems(where, [c["name"] for c in columns], declared,
                                      whole=model["name"] in FEATURE_TABLES)
        for column in columns:
            name = column["name"]
            if name in declared.columns and f'doc("{name}")' not in str(column.get("description", "")):
                problems.append(f"{where}: {name} has no '{{{{ doc(\"{name}\") }}}}' description")
    problems += [f"no YAML entry lists the columns of {name}" for name in FEATURE_TABLES if name not in found]
    assert not problems, "\n".join(problems)


def test_every_declared_column_has_a_doc_block(declared: Declaration) -> None:
    blocks = set(re.findall(r"{%\s*docs\s+(\w+)\s*%}", DOCS.read_text()))
    missing = [c for c in declared.columns if c not in blocks]
    assert not missing, f"{DOCS.relative_to(PROJECT_ROOT)}: no {{% docs %}} block for {missing}"


def _identifiers(expression: str) -> set[str]:
    """The column names of a SQL expression: its words that are not a function call or a number."""
    return set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()", expression, re.I))


def test_the_meta_model_uses_every_recommender_and_only_declared_columns(declared: Declaration) -> None:
    where = "dbt_project/dbt_project.yml (var meta_features)"
    used = set().union(*(_identifiers(e) for e in declared.meta_features.values()))
    problems = [f"{where}: no feature reads {c}" for c in [*declared.scores, *declared.ranks] if c not in used]
    problems += [f"{where}: {name} reads {c}, not a declared scored feature"
                 for name, expression in declared.meta_features.items()
                 for c in sorted(_identifiers(expression) - set(declared.columns))]
    problems += [f"dbt_project/dbt_project.yml (var meta_image_features): {f} is not in meta_features"
                 for f in declared.meta_image_features if f not in declared.meta_features]
    assert not problems, "\n".join(problems)


def test_every_meta_feature_and_single_recommender_has_a_phrase(declared: Declaration) -> None:
    where = PHRASES.relative_to(PROJECT_ROOT)
    with PHRASES.open(newline="") as f:
        rows = {(r["feature"], r["direction"]) for r in csv.DictReader(f)}
    features = {feature for feature, _ in rows}
    problems = [f"{where}: no row for the meta feature {name}" for name in declared.meta_features
                if name not in features]
    # a night ranked by a single recommender explains each pick by its feature's `high` phrase (home_page_rankings)
    problems += [f"{where}: no row ({feature}, high) for the single recommender {name}"
                 for name, _, feature in declared.singles
                 if feature != "(none)" and (feature, "high") not in rows]
    known = {*declared.meta_features, *(feature for _, _, feature in declared.singles), "(none)"}
    problems += [f"{where}: {feature} is neither a meta feature nor a single recommender's"
                 for feature in sorted(features - known)]
    assert ("(none)", "") in rows, f"{where}: no (none) row, the phrase when no feature lifts the score"
    assert not problems, "\n".join(problems)


def test_the_evaluation_accepts_exactly_the_single_recommenders(declared: Declaration) -> None:
    path, model = next((p, m) for p, m in _model_entries() if m["name"] == "int_evaluation_ranks")
    column = next(c for c in model["columns"] if c["name"] == "recommender")
    accepted = next(t["accepted_values"]["arguments"]["values"] for t in column.get("data_tests", [])
                    if isinstance(t, dict) and "accepted_values" in t)
    expected = [name for name, _, _ in declared.singles] + META_RECOMMENDERS
    assert accepted == expected, f"{path.relative_to(PROJECT_ROOT)} (int_evaluation_ranks.recommender): " \
                                 f"accepted_values {accepted}, declared {expected}"


def test_the_built_tables_hold_the_declared_columns(declared: Declaration, scored_world: tuple[Path, Path]) -> None:
    """What the SQL really selects, in table order, in the session's built world (tests/conftest.py: shared with the
    other tests of a whole run; run alone, this test pays for the build)."""
    warehouse, _ = scored_world
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = {table: [name for (name,) in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = 'main' and table_name = ? order by column_index", [table]).fetchall()]
            for table in FEATURE_TABLES}
    assert all(built.values()), f"not built: {[t for t, columns in built.items() if not columns]}"
    problems = [problem for table, columns in built.items()
                for problem in _feature_problems(f"the built table main.{table}", columns, declared, whole=True)]
    assert not problems, "\n".join(problems)
