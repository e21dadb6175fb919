"""What a night produced, as text for a terminal: themes, the meta model, a home page, meta vs the recommenders."""

from __future__ import annotations

from pathlib import Path

import duckdb

from vitrine.config import warehouse_path


def _exists(con: duckdb.DuckDBPyConnection, table: str, schema: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0])


def night_summary(
    warehouse: Path | None = None, *, schema: str = "main", themes: int = 8, page_rows: int = 10,
) -> str:
    """A few lines per public table of the night (the first `page_rows` of one customer's home page); tables not
    built yet are skipped."""
    lines: list[str] = []
    with duckdb.connect(str(warehouse_path(warehouse)), read_only=True) as con:
        if _exists(con, "theme_catalog", schema):
            rows = con.execute(
                f"select theme_id, name, image_share_pct from {schema}.theme_catalog "
                "order by image_share_pct desc, theme_id limit ?", [themes]
            ).fetchall()
            total = con.execute(f"select count(*) from {schema}.theme_catalog").fetchone()[0]
            lines.append(f"Themes (theme_catalog: {total} themes; the {len(rows)} largest):")
            lines += [f"  {theme_id:>3}  {share:5.1f}%  {name}" for theme_id, name, share in rows]
        if _exists(con, "meta_models", schema):
            rows = con.execute(
                f"select model_version, examples, positives, regularization_c, validation_auc, validation_log_loss "
                f"from {schema}.meta_models where trained_for = (select max(trained_for) from {schema}.meta_models) "
                "order by variant"
            ).fetchall()
            lines.append("Meta model (meta_models, tonight's):")
            lines += [
                f"  {v}: {n:,} examples ({p:,} purchases), C={c:g}, validation AUC {auc:.3f}, log-loss {ll:.4f}"
                for v, n, p, c, auc, ll in rows
            ]
        if _exists(con, "int_night_ranker", schema):
            row = con.execute(f"select model_version, reason from {schema}.int_night_ranker").fetchone()
            if row:
                lines.append(f"Ranked by {row[0]}: {row[1]}")
        if _exists(con, "home_page_rankings", schema):
            pages = con.execute(f"select count(distinct user_id), count(*) from {schema}.home_page_rankings").fetchone()
            user = con.execute(f"select min(user_id) from {schema}.home_page_rankings").fetchone()[0]
            lines.append(
                f"Home pages (home_page_rankings): {pages[0]:,} customers, {pages[1]:,} rows; customer {user}'s top "
                f"{page_rows}:"
            )
            rows = con.execute(
                f"select h.rank, h.sale_id, s.title, h.score, h.explanation from {schema}.home_page_rankings h "
                f"join {schema}.stg_sales s using (sale_id) where h.user_id = ? and h.rank <= ? order by h.rank",
                [user, page_rows]
            ).fetchall()
            lines += [f"  {r:>2}. {sale:>6} {title[:44]:<44} score {p:.3f}  {why}" for r, sale, title, p, why in rows]
    return "\n".join(lines)
