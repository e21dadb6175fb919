"""The night's run report: one static HTML page in the published night's folder, opened from disk (no server).

It reads the published Parquet files (what BI tools see tonight) and, for sale titles and photo paths, the
warehouse's staging models (read-only). Each section renders from its table when the night published it and says
"not built yet" otherwise (themes, attractiveness, home-page rankings and the meta model arrive with issue #5).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import duckdb

from vitrine.publish import Night
from vitrine.report.charts import bar_chart, line_chart
from vitrine.report.thumbnails import Thumbnails

logger = logging.getLogger("vitrine.report")

REPORT_DIR = "report"
USERS_SHOWN = 3
LISTS = [("visited", "Visited (before tonight)"), ("cf", "Collaborative filtering"),
         ("cb_image", "Image content only"), ("meta", "Meta model (home page)")]

WHY_MISSING = {
    "visited": "the warehouse's stg_visits is not readable",
    "cf": "recommender_scores has no cf_score",
    "cb_image": "recommender_scores has no cb_image_score and there is no recommendation_examples",
    "meta": "there is no home_page_rankings nor recommendation_examples",
}

CSS = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1280px; }
h1 { margin-bottom: 0; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 32px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #8a5a00; background: #fff7e0; padding: 6px 10px; border-left: 3px solid #e0a800; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
.theme { width: 430px; border: 1px solid #ddd; padding: 8px; }
.source { color: #555; }
.thumbs { display: flex; gap: 4px; flex-wrap: wrap; }
.thumbs figure { margin: 0; width: 104px; font-size: 10px; }
.thumbs img { width: 104px; height: 78px; object-fit: cover; display: block; }
.nophoto { width: 104px; height: 78px; background: #eee; display: flex; align-items: center;
           justify-content: center; font-size: 10px; color: #777; }
.user { border: 1px solid #ddd; padding: 8px; margin-bottom: 16px; }
.list { margin: 6px 0; } .list h4 { margin: 4px 0; }
"""


@contextmanager
def _connect(night: Night, warehouse: Path | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """In-memory DuckDB: one view per published Parquet table, the warehouse attached read-only as `wh`."""
    with duckdb.connect() as con:
        for name, entry in night.tables.items():
            path = str(night.path / entry["file"]).replace("'", "''")
            con.execute(f"create view \"{name}\" as select * from read_parquet('{path}')")
        if warehouse is not None and Path(warehouse).exists():
            con.execute(f"attach '{str(warehouse).replace(chr(39), chr(39) * 2)}' as wh (read_only)")
        yield con


def _has(con: duckdb.DuckDBPyConnection, name: str, schema: str = "main") -> bool:
    """Whether the attached warehouse (`wh`) has schema.name."""
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_catalog = 'wh' and table_schema = ? "
        "and table_name = ?", [schema, name]
    ).fetchone()[0])


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    return {row[0] for row in con.execute(f'describe "{name}"').fetchall()}


def _not_built(what: str, why: str = "the table is not among tonight's public marts") -> str:
    return f'<p class="note">{escape(what)}: not built yet ({escape(why)}).</p>'


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{_num(v)}</td>' if isinstance(v, int | float) else f"<td>{_num(v)}</td>"
                         for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


class _Sales:
    """Sale titles and hero photos (warehouse staging), thumbnails on demand."""

    def __init__(self, con: duckdb.DuckDBPyConnection, thumbs: Thumbnails) -> None:
        self.con, self.thumbs = con, thumbs
        self.available = _has(con, "stg_sales") and _has(con, "stg_sale_images")

    def figures(self, sale_ids: list[int]) -> str:
        if not sale_ids:
            return '<p class="note">none</p>'
        info: dict[int, tuple[str, str | None]] = {}
        if self.available:
            rows = self.con.execute(
                """
                select s.sale_id, s.title || ' (' || s.destination_city || ', ' || s.destination_country || ')',
                       i.image_path
                from wh.main.stg_sales s
                left join wh.main.stg_sale_images i on i.sale_id = s.sale_id and i.is_hero
                where s.sale_id in (select unnest(?))
                """,
                [sale_ids],
            ).fetchall()
            info = {sale_id: (title, path) for sale_id, title, path in rows}
        parts = []
        for sale_id in sale_ids:
            title, path = info.get(sale_id, (f"sale {sale_id}", None))
            src = self.thumbs.get(f"sale_{sale_id}", path)
            picture = (f'<img src="{src}" alt="sale {sale_id}" title="{escape(title)}">' if src
                       else '<div class="nophoto">no photo</div>')
            parts.append(f"<figure>{picture}<figcaption>{sale_id}: {escape(title[:40])}</figcaption></figure>")
        return '<div class="thumbs">' + "".join(parts) + "</div>"


def _ranker_paragraph(summary: dict[str, Any]) -> str:
    """What ranked the home pages and why (int_night_ranker), from the night's summary."""
    ranker = summary.get("ranker") or {}
    if not ranker:
        return ""
    return (f'<p id="ranker">Home pages ranked by <code>{escape(str(ranker["model_version"]))}</code>: '
            f'{escape(str(ranker["reason"]))}.</p>')


def _counts_section(summary: dict[str, Any], night: Night) -> str:
    rows = [[k, v] for k, v in (summary.get("counts") or {}).items()]
    rows += [[f"rows in {name}", entry["rows"]] for name, entry in night.tables.items()]
    rows += [[f"dbt {k}", v] for k, v in (summary.get("dbt_counts") or {}).items()]
    steps = [[step, round(seconds, 1)] for step, seconds in (summary.get("step_seconds") or {}).items()]
    ingest = summary.get("ingest") or {}
    parts = ['<section id="counts"><h2>Key counts</h2>', _table(["what", "count"], rows)]
    if ingest:
        parts += ["<h3>Ingest</h3>", _table(["table", "read", "accepted", "rejected"],
                                           [[t, r["read"], r["accepted"], r["rejected"]] for t, r in ingest.items()])]
    if steps:
        parts += ["<h3>Steps (seconds)</h3>", _table(["step", "seconds"], steps)]
    return "\n".join([*parts, "</section>"])


def _evaluation_section(con: duckdb.DuckDBPyConnection, night: Night) -> str:
    head = '<section id="evaluation"><h2>Evaluation of the recommenders</h2>'
    if "model_evaluation" not in night.tables:
        return head + _not_built("model_evaluation") + "</section>"
    columns = {c[0] for c in con.execute("select * from model_evaluation limit 0").description}
    segments = ["all", "new_sales"] if "sales_segment" in columns else [None]
    tables = []
    for segment in segments:
        where = f"where sales_segment = '{segment}'" if segment else ""
        rows = con.execute(
            f"""
            select target, recommender, count(*) as days, sum(users),
                   sum(p_at_10 * users) / nullif(sum(users), 0), sum(r_at_10 * users) / nullif(sum(users), 0),
                   sum(ndcg_at_10 * users) / nullif(sum(users), 0),
                   sum(hit_rate_at_10 * users) / nullif(sum(users), 0),
                   sum(revenue_at_10), sum(auc * users) / nullif(sum(users), 0)
            from model_evaluation {where} group by all order by target, 5 desc nulls last, recommender
            """
        ).fetchall()
        if segment == "new_sales":
            tables.append("<h3>Cold start: the sales in their first days, ranked among themselves</h3>")
        tables.append(_table(["target", "recommender", "days", "users", "P@10", "R@10", "NDCG@10", "hit@10",
                              "revenue@10", "AUC"], [list(r) for r in rows]))
    series: dict[str, list[tuple[date, float]]] = {}
    where_all = "and sales_segment = 'all'" if segments[0] else ""
    for recommender, day, p in con.execute(
        f"select recommender, evaluated_on, p_at_10 from model_evaluation where target = 'purchases' {where_all} "
        "order by 1, 2"
    ).fetchall():
        series.setdefault(recommender, []).append((day, p))
    chart = line_chart(series, title="P@10 per recommender over the evaluation days (purchases)")
    return "\n".join([head, tables[0], f'<div id="p-at-10-chart">{chart}</div>', *tables[1:], "</section>"])


TAG_SOURCES = {"scene_head": "the trained scene head's labels", "pretrained": "the pretrained classifier's labels"}


def _tag_source(con: duckdb.DuckDBPyConnection, night: Night) -> tuple[str, str] | None:
    """Where tonight's tags come from (image_labels.is_tag): (label_source, model_version), or None when the night
    did not publish image_labels with its label source."""
    if "image_labels" not in night.tables or not {"label_source", "is_tag"} <= _columns(con, "image_labels"):
        return None
    row = con.execute("select label_source, min(model_version) from image_labels where is_tag "
                      "group by label_source order by count(*) desc, label_source limit 1").fetchone()
    return (str(row[0]), str(row[1])) if row else None


def _tag_source_line(source: tuple[str, str] | None) -> str:
    if source is None:
        return ""
    label_source, version = source
    words = TAG_SOURCES.get(label_source, label_source)
    return (f'<p class="source" data-label-source="{escape(label_source)}">Tags: {escape(words)} '
            f"({escape(version)}).</p>")


def _themes_section(con: duckdb.DuckDBPyConnection, night: Night, thumbs: Thumbnails) -> str:
    head = '<section id="themes"><h2>Theme gallery</h2>'
    if "theme_catalog" not in night.tables or "image_themes" not in night.tables:
        return head + _not_built("theme_catalog / image_themes (NMF themes)") + "</section>"
    head += _tag_source_line(_tag_source(con, night))
    has_images = _has(con, "stg_sale_images")
    paths = "left join wh.main.stg_sale_images i using (image_id)" if has_images else ""
    path_col = "i.image_path" if has_images else "null"
    has_labels = "image_labels" in night.tables
    contents = ("left join (select distinct image_id, content_hash from image_labels where is_current) h "
                "using (image_id)") if has_labels else ""
    content = "coalesce(h.content_hash, cast(t.image_id as varchar))" if has_labels else "t.image_id"
    rows = con.execute(
        f"""
        with distinct_photos as (
            -- one image per photo content: the catalogue reuses photos across sales
            select t.*, row_number() over (
                       partition by t.theme_id, {content} order by t.score_pct desc, t.image_id) as copy
            from image_themes t {contents}
        ),
        ranked as (
            select t.theme_id, t.image_id, {path_col} as image_path,
                   row_number() over (partition by t.theme_id order by t.score_pct desc, t.image_id) as n
            from distinct_photos t {paths}
            where t.copy = 1
        )
        select c.theme_id, c.name, c.top_tags,
               list(r.image_id order by r.n) filter (where r.n <= 4), list(r.image_path order by r.n) filter (
                   where r.n <= 4)
        from theme_catalog c left join ranked r on r.theme_id = c.theme_id
        group by all order by c.theme_id
        """
    ).fetchall()
    cards = []
    for theme_id, name, tags, image_ids, image_paths in rows:
        figures = []
        for image_id, path in zip(image_ids or [], image_paths or [], strict=False):
            src = thumbs.get(f"image_{image_id}", path)
            figures.append(f'<figure><img src="{src}" alt="image {image_id}"></figure>' if src
                           else '<figure><div class="nophoto">no photo</div></figure>')
        cards.append(f'<div class="theme"><h3>{theme_id}: {escape(str(name))}</h3><p>{escape(str(tags or ""))}</p>'
                     f'<div class="thumbs">{"".join(figures)}</div></div>')
    return head + '<div class="grid">' + "".join(cards) + "</div></section>"


def _attractiveness_section(con: duckdb.DuckDBPyConnection, night: Night) -> str:
    head = '<section id="attractiveness"><h2>Tag and theme attractiveness</h2>'
    if "tag_attractiveness" not in night.tables:
        return head + _not_built("tag_attractiveness") + "</section>"
    # all countries together when the mart has that rollup (destination_country = 'all'), else every row
    rollup = con.execute("select count(*) from tag_attractiveness where destination_country = 'all'").fetchone()[0]
    country = "and destination_country = 'all'" if rollup else ""
    # the latest full month: the last month of visits is usually cut short by the night
    month = con.execute(
        f"select max(month) from tag_attractiveness where 1 = 1 {country} and month < "
        "(select max(month) from tag_attractiveness)"
    ).fetchone()[0] or con.execute("select max(month) from tag_attractiveness").fetchone()[0]
    if month is None:
        return head + '<p class="note">tag_attractiveness is empty tonight.</p></section>'
    charts = []
    source = _tag_source(con, night)
    tags = f"tag ({TAG_SOURCES.get(source[0], source[0])})" if source else "tag"
    for kind in ("theme", "tag"):
        rows = con.execute(
            f"""
            select name, attractiveness from tag_attractiveness
            where month = ? and kind = ? and attractiveness is not null {country}
            order by attractiveness desc, name
            """,
            [month, kind],
        ).fetchall()
        if not rows:
            continue
        shown = rows if len(rows) <= 20 else rows[:12] + rows[-8:]
        charts.append(bar_chart([(str(n), float(a)) for n, a in shown],
                                title=f"{tags if kind == 'tag' else kind} attractiveness in {month:%Y-%m} "
                                      "(share of visits / share of sales - 1)"))
    body = "\n".join(charts) or '<p class="note">no tag or theme rows for the latest month.</p>'
    return head + f'<div id="attractiveness-chart">{body}</div></section>'


def _sample_users(con: duckdb.DuckDBPyConnection, night: Night) -> tuple[list[int], str]:
    source = "recommendation_examples" if "recommendation_examples" in night.tables else (
        "home_page_rankings" if "home_page_rankings" in night.tables else "recommender_scores")
    if source not in night.tables:
        return [], source
    users = [r[0] for r in con.execute(
        f"select distinct user_id from {source} order by hash(user_id, ?::varchar), user_id limit {USERS_SHOWN}",
        [night.run_date.isoformat()],
    ).fetchall()]
    return users, source


def _user_lists(con: duckdb.DuckDBPyConnection, night: Night, user_id: int) -> dict[str, list[int] | None]:
    """The sale ids of each list for one customer (None: that list is not built tonight)."""
    if "recommendation_examples" in night.tables:
        lists: dict[str, list[int] | None] = {key: [] for key, _ in LISTS}
        for key, sale_id in con.execute(
            "select list, sale_id from recommendation_examples where user_id = ? order by list, rank", [user_id]
        ).fetchall():
            lists.setdefault(key, []).append(sale_id)  # type: ignore[union-attr]
        return lists
    lists = {}
    if _has(con, "stg_visits"):
        lists["visited"] = [r[0] for r in con.execute(
            """
            select sale_id from wh.main.stg_visits where user_id = ? and visited_at < ?::date
            group by sale_id order by max(visited_at) desc, sale_id limit 10
            """,
            [user_id, night.run_date],
        ).fetchall()]
    else:
        lists["visited"] = None
    columns = _columns(con, "recommender_scores") if "recommender_scores" in night.tables else set()
    for key, column in (("cf", "cf_score"), ("cb_image", "cb_image_score")):
        lists[key] = [r[0] for r in con.execute(
            f"""
            select sale_id from recommender_scores where user_id = ? and {column} > 0
            order by {column} desc, sale_id limit 10
            """,
            [user_id],
        ).fetchall()] if column in columns else None
    lists["meta"] = [r[0] for r in con.execute(
        "select sale_id from home_page_rankings where user_id = ? order by rank", [user_id]
    ).fetchall()] if "home_page_rankings" in night.tables else None
    return lists


def _users_section(con: duckdb.DuckDBPyConnection, night: Night, sales: _Sales) -> str:
    head = '<section id="users"><h2>Three customers tonight</h2>'
    users, source = _sample_users(con, night)
    if not users:
        return head + _not_built("recommender_scores / recommendation_examples") + "</section>"
    parts = [head, f"<p>Sampled from {escape(source)} (reproducibly for the night).</p>"]
    for user_id in users:
        lists = _user_lists(con, night, user_id)
        parts.append(f'<div class="user"><h3>Customer {user_id}</h3>')
        for key, title in LISTS:
            sale_ids = lists.get(key)
            body = _not_built(f"{title} list", WHY_MISSING[key]) if sale_ids is None else sales.figures(sale_ids)
            parts.append(f'<div class="list" data-list="{key}"><h4>{escape(title)}</h4>{body}</div>')
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def write_report(night: Night, *, warehouse: Path | None, summary: dict[str, Any] | None = None) -> Path:
    """Write NIGHT/report/index.html (with img/ thumbnails); return its path."""
    summary = summary or {}
    report_dir = night.path / REPORT_DIR
    report_dir.mkdir(parents=True, exist_ok=True)
    thumbs = Thumbnails(report_dir)
    with _connect(night, warehouse) as con:
        sales = _Sales(con, thumbs)
        sections = [
            _counts_section(summary, night),
            _evaluation_section(con, night),
            _themes_section(con, night, thumbs),
            _attractiveness_section(con, night),
            _users_section(con, night, sales),
        ]
    published = night.manifest.get("published_at", "")
    html = "\n".join([
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Vitrine night {night.run_date}</title><style>{CSS}</style></head><body>",
        f"<h1>Vitrine night {night.run_date}</h1>",
        f"<p>Run <code>{escape(night.run_id)}</code>, published {escape(published)}. Serving copy: "
        f"<code>../serving.duckdb</code>; tables: <code>../tables/*.parquet</code>.</p>",
        _ranker_paragraph(summary),
        *sections,
        f'<p class="footer">{len(thumbs.failed)} photo(s) could not be read for thumbnails.</p>'
        if thumbs.failed else "",
        "</body></html>",
    ])
    target = report_dir / "index.html"
    tmp = report_dir / ".index.html.tmp"
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    logger.info("report: %s", target)
    return target
