"""Benchmark of the themes and the meta model at scale: wall time and peak memory of each step.

    .venv/bin/python benchmarks/bench_meta.py [--images 100000 --tags 1000 --examples 1000000 --users 1000000
                                               --candidates 100] [--workdir DIR]

Steps (each its own process; peak memory = that process's max RSS):
  nmf      tag_matrix + fit_themes (k = 30) + image_theme_shares on generated top-5 labels of `images` images over
           ~`tags` tags (scenes of 25 tags each), as int_theme_fits / int_image_themes run them
  train    train_meta_model on `examples` generated examples over 30 days (var meta_features, the default C grid of 6
           values fitted on the first 23 days and scored on the last 7, then the refit), as int_meta_fits runs it
  score    a real `vitrine build` of int_meta_served, int_meta_scores, int_home_page_picks (tonight's candidates
           scored and ranked) and home_page_rankings (with their dbt tests) over a generated int_candidate_features
           of `users` customers x `candidates` sales (the nightly candidate set), in a DuckDB warehouse of its own
The generated inputs are built before the timer starts (nmf, train) or in a separate setup process (score).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import yaml
from harness import ROOT, run_cli, run_python

NIGHT = date(2026, 6, 1)
# the meta model's features and image features: the vars meta_features and meta_image_features of dbt_project.yml
_VARS = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
FEATURES = tuple(_VARS["meta_features"])
IMAGE_FEATURES = tuple(_VARS["meta_image_features"])
# a generated value for each signal of the declaration (macro scored_signals), by (customer, sale) hash
SIGNALS = {
    "popularity_visits": "cast(hash(sale_id, 6) % 500 as bigint)",
    "popularity_rank": "cast(hash(sale_id, 7) % 300 as bigint) + 1",
    "user_sale_visits": "cast(hash(user_id, sale_id, 8) % 4 as bigint)",
    "days_since_open": "cast(hash(sale_id, 9) % 10 as integer)",
    "days_left": "cast(hash(sale_id, 10) % 10 as integer)",
    "price_eur": "100.0 + hash(sale_id, 11) % 2000",
    "price_ratio": "0.2 + (hash(user_id, sale_id, 12) % 1000) / 250.0",
}


def declared_columns(warehouse: Path) -> list[str]:
    """The scored feature columns as the project declares them (macro scored_feature_columns), rendered by dbt."""
    from dbt.cli.main import dbtRunner

    from vitrine.config import DBT_PROJECT_DIR, PROFILES_DIR
    from vitrine.dbt_runner import dbt_on_warehouse

    with dbt_on_warehouse(warehouse):
        result = dbtRunner().invoke(["compile", "--inline", "{{ tojson(scored_feature_columns()) }}", "--quiet",
                                     "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR)])
    if not result.success:
        raise SystemExit(f"rendering scored_feature_columns() failed: {result.exception}")
    return json.loads(next(r.node.compiled_code for r in result.result.results))


def generated_column(column: str, seed: int) -> str:
    """A pseudo-random value for a scored feature column: a score in [0, 1), a rank in 1..21, or the signal's."""
    if column.endswith("_score"):
        return f"(hash(user_id, sale_id, {seed}) % 1000) / 1000.0 as {column}"
    if column.endswith("_rank") and column not in SIGNALS:
        return f"cast(hash(user_id, sale_id, {seed}) % 21 as bigint) + 1 as {column}"
    if column not in SIGNALS:
        raise SystemExit(f"no generated value for the signal {column}: add it to SIGNALS in {__file__}")
    return f"{SIGNALS[column]} as {column}"


def step_nmf(images: int, tags: int) -> dict:
    import numpy as np
    import pandas as pd

    from vitrine.themes import fit_themes, image_theme_shares, tag_matrix

    rng = np.random.default_rng(0)
    scenes = max(tags // 25, 1)
    scene = rng.integers(0, scenes, images)
    picks = rng.zipf(1.6, size=(images, 5)) % 25
    tag = scene[:, None] * 25 + picks
    probability = np.sort(rng.dirichlet(np.ones(6), size=images)[:, :5], axis=1)[:, ::-1]
    labels = pd.DataFrame({
        "image_id": np.repeat(np.arange(images), 5),
        "label": [f"tag_{t}" for t in tag.ravel()],
        "probability": probability.ravel(),
    })
    t0 = time.perf_counter()
    x = tag_matrix(labels, "tfidf")
    t1 = time.perf_counter()
    themes, _ = fit_themes(x, 30)
    t2 = time.perf_counter()
    shares = image_theme_shares(x, themes)
    t3 = time.perf_counter()
    return {"matrix_s": t1 - t0, "fit_s": t2 - t1, "shares_s": t3 - t2, "shape": list(x.shape),
            "themes": len(themes), "share_rows": len(shares)}


def step_train(examples: int) -> dict:
    import numpy as np
    import pandas as pd

    from vitrine.meta import train_meta_model

    rng = np.random.default_rng(1)
    data = {f: rng.gamma(1.0, 1.0, examples) for f in FEATURES}
    logit = -2.5 + 0.8 * data["cf_score"] + 0.5 * data["cb_text_score"] - 0.4 * data["abs_log_price_ratio"]
    frame = pd.DataFrame(data)
    frame["label"] = (rng.random(examples) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["example_on"] = [NIGHT - timedelta(days=int(d)) for d in rng.integers(1, 31, examples)]
    frame["user_id"] = np.arange(examples)
    frame["sale_id"] = rng.integers(1, 5000, examples)
    t0 = time.perf_counter()
    fit = train_meta_model(frame, FEATURES, trained_for=NIGHT, validation_days=7)
    return {"train_s": time.perf_counter() - t0, "examples": examples, "validation_auc": fit.validation_auc,
            "c": fit.regularization_c}


def setup_score(warehouse: Path, users: int, candidates: int) -> dict:
    """The scoring models' inputs: int_candidate_features, int_scoring_days, a trained int_meta_fits, themes."""
    import duckdb

    t0 = time.perf_counter()
    columns = declared_columns(warehouse)  # before the connection: dbt opens the warehouse too
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set preserve_insertion_order = false")
        con.execute(f"""
            create table main.int_scoring_days as
            select date '{NIGHT}' - cast(r as integer) as scored_for, date '{NIGHT}' as run_date,
                   cast(r as integer) as days_before, r = 0 as is_nightly, r between 1 and 30 as is_training,
                   r between 1 and 7 as is_evaluation
            from range(0, 31) as t(r)
        """)
        # hash-based pseudo-random features, one row per (customer, candidate sale), one column per declared feature
        features = ",\n                ".join(
            generated_column(column, 100 + i) for i, column in enumerate(columns))
        con.execute(f"""
            create table main.int_candidate_features as
            with pairs as (
                select u as user_id, (u * 7919 + c * 104729) % 5000 + 1 as sale_id, c
                from range(1, {users} + 1) as a(u), range(0, {candidates}) as b(c)
            )
            select date '{NIGHT}' as scored_for, user_id, sale_id, true as is_candidate,
                {features}
            from pairs
            qualify row_number() over (partition by user_id, sale_id order by c) = 1
        """)
        rows = con.execute("select count(*) from main.int_candidate_features").fetchone()[0]
        terms = [("(intercept)", 0.0, 1.0, -2.5)] + [(f, 0.5, 0.3, 0.1 * (i + 1) * (-1) ** i)
                                                      for i, f in enumerate(FEATURES)]
        con.execute("""
            create table main.int_meta_fits (trained_for date, model_version varchar, variant varchar,
                term_order bigint, term varchar, center double, scale double, coefficient double,
                regularization_c double, train_from date, train_to date, validation_from date, validation_to date,
                examples bigint, positives bigint, validation_examples bigint, validation_auc double,
                validation_log_loss double)
        """)
        for variant in ("full", "no_image"):
            for order, (term, center, scale, coefficient) in enumerate(terms):
                if variant == "no_image" and term in IMAGE_FEATURES:
                    continue
                con.execute(
                    "insert into main.int_meta_fits values "
                    "(?, ?, ?, ?, ?, ?, ?, ?, 1.0, ?, ?, ?, ?, 1, 1, 1, 0.8, 0.3)",
                    [NIGHT, f"meta_{variant}_bench", variant, order, term, center, scale, coefficient,
                     NIGHT - timedelta(days=30), NIGHT - timedelta(days=8), NIGHT - timedelta(days=14),
                     NIGHT - timedelta(days=8)],
                )
        con.execute(f"""
            create table main.int_theme_fits as
            select date '{NIGHT}' as fitted_for, 'bench' as label_model_version, 'tfidf' as weighting,
                   1 as images, t as theme_id, 'theme_' || t as theme_name, 1 as tag_rank, 'tag_' || t as tag,
                   1.0 as weight
            from range(1, 31) as r(t)
        """)
        con.execute("""
            create table main.int_sale_themes as
            select s as sale_id, 1 + s % 30 as theme_id, 100.0 as score_pct, 1 as images_with_themes
            from range(1, 5001) as r(s)
        """)
    return {"setup_s": time.perf_counter() - t0, "pairs": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", choices=["nmf", "train", "setup-score"], help=argparse.SUPPRESS)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=1_000)
    parser.add_argument("--examples", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--only-score", action="store_true",
                        help="time the scoring step alone on the generated candidates already in --workdir")
    args = parser.parse_args()

    if args.step == "nmf":
        print(json.dumps(step_nmf(args.images, args.tags)))
        return
    if args.step == "train":
        print(json.dumps(step_train(args.examples)))
        return
    if args.step == "setup-score":
        print(json.dumps(setup_score(args.workdir / "vitrine.duckdb", args.users, args.candidates)))
        return

    script = str(Path(__file__).resolve())
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vitrine_bench_meta_"))
    workdir.mkdir(parents=True, exist_ok=True)
    table = []
    if args.only_score:
        with duckdb.connect(str(workdir / "vitrine.duckdb"), read_only=True) as con:
            pairs = con.execute("select count(*) from main.int_candidate_features").fetchone()[0]
        setup = {"pairs": pairs}
    else:
        (workdir / "vitrine.duckdb").unlink(missing_ok=True)
        table, setup = prepare(script, args, workdir)
    scoring(table, workdir, setup)
    print(f"{'step':<32} {'wall s':>8} {'peak GiB':>9}  notes")
    for name, seconds, gib, notes in table:
        print(f"{name:<32} {seconds:>8.1f} {gib:>9.2f}  {notes}")
    print(f"(workdir {workdir}; load average {Path('/proc/loadavg').read_text().split()[0]})")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


def prepare(script: str, args: argparse.Namespace, workdir: Path) -> tuple[list, dict]:
    table = []
    wall, peak, out = run_python([script, "--step", "nmf", "--images", str(args.images), "--tags", str(args.tags)])
    nmf = json.loads(out.strip().splitlines()[-1])
    table.append(("NMF themes (k=30)", nmf["fit_s"] + nmf["matrix_s"] + nmf["shares_s"], peak,
                  f"{nmf['shape'][0]:,} images x {nmf['shape'][1]:,} tags: matrix {nmf['matrix_s']:.1f}s, "
                  f"fit {nmf['fit_s']:.1f}s, shares {nmf['shares_s']:.1f}s; process {wall:.1f}s"))
    wall, peak, out = run_python([script, "--step", "train", "--examples", str(args.examples)])
    train = json.loads(out.strip().splitlines()[-1])
    table.append(("meta model training", train["train_s"], peak,
                  f"{train['examples']:,} examples, 6 C values + refit, C={train['c']}; process {wall:.1f}s"))
    wall, peak, out = run_python([script, "--step", "setup-score", "--workdir", str(workdir),
                                  "--users", str(args.users), "--candidates", str(args.candidates)])
    setup = json.loads(out.strip().splitlines()[-1])
    table.append(("(setup: generated candidates)", setup["setup_s"], peak, f"{setup['pairs']:,} pairs"))
    return table, setup


def scoring(table: list, workdir: Path, setup: dict) -> None:
    run_cli(["build", "--warehouse", str(workdir / "vitrine.duckdb"), "--select", "explanation_phrases"])
    wall, peak, _ = run_cli([
        "build", "--warehouse", str(workdir / "vitrine.duckdb"), "--select",
        "int_meta_served", "int_meta_scores", "int_night_ranker", "int_home_page_picks", "home_page_rankings",
        "--exclude", "test_type:unit", "--vars", json.dumps({"run_date": NIGHT.isoformat()}),
    ])
    results = json.loads((ROOT / "dbt_project" / "target" / "run_results.json").read_text())["results"]
    nodes = sorted(((r["execution_time"], f'{r["unique_id"].split(".")[0]} {r["unique_id"].split(".")[2]}')
                    for r in results), reverse=True)[:4]
    table.append(("score one night (dbt build)", wall, peak,
                  f"{setup['pairs']:,} candidates -> top 10 + explanations; slowest: "
                  + ", ".join(f"{n} {s:.0f}s" for s, n in nodes)))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
