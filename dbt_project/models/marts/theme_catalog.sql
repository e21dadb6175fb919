{{ config(tags=['images']) }}
{#-
  Public. Tonight's themes: id (stable from night to night while the theme stays recognisably the same), name
  (its top 3 tags), its top tags and their weights (a theme's tag weights sum to 1), and its share of the
  catalogue's images.
-#}
with tonight as (
    select f.*
    from {{ ref('int_theme_fits') }} as f
    inner join {{ ref('int_scoring_days') }} as d
        on d.scored_for = f.fitted_for
    where d.is_nightly
),

shares as (
    select theme_id, sum(score_pct) / 100.0 as image_equivalents
    from {{ ref('int_image_themes') }}
    group by theme_id
)

select
    t.theme_id,
    t.theme_name as name,
    {{ ordered_listagg("t.tag", "', '", "t.tag_rank", 3) }} as top_tags,
    {{ ordered_listagg(dbt.concat(["t.tag", "':'", "cast(round(t.weight, 3) as " ~ dbt.type_string() ~ ")"]),
                   "', '", "t.tag_rank", 10) }} as tag_weights,
    max(t.images) as fitted_images,
    round(100.0 * coalesce(max(s.image_equivalents), 0) / max(t.images), 3) as image_share_pct,
    max(t.fitted_for) as fitted_for,
    max(t.label_model_version) as label_model_version,
    max(t.weighting) as weighting
from tonight as t
left join shares as s
    on s.theme_id = t.theme_id
group by t.theme_id, t.theme_name
