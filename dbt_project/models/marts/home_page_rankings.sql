{#-
  Public. Tonight's home page of every active customer: the top 10 open sales by the meta model's P(purchase)
  (ties broken by the smaller sale_id), never a sale the customer already bought, with the served model's version
  and an explanation: the feature with the largest contribution (weight x deviation from the training mean) in
  the words of seeds/explanation_phrases.csv ("{theme}" becomes the sale's main theme).
-#}
{%- set features = var('meta_features').keys() | list %}
with tonight as (
    select s.scored_for, s.user_id, s.sale_id, s.meta_score, s.model_version
    from {{ ref('int_meta_scores') }} as s
    inner join {{ ref('int_scoring_days') }} as d
        on d.scored_for = s.scored_for
    where d.is_nightly and s.is_candidate
),

ranked as (
    select
        scored_for, user_id, sale_id, meta_score, model_version,
        row_number() over (partition by scored_for, user_id order by meta_score desc, sale_id) as rank
    from tonight
),

top_10 as (
    select r.*, {% for f in features %}f.{{ f }}{{ ', ' if not loop.last }}{% endfor %}
    from ranked as r
    inner join {{ ref('int_meta_features') }} as f
        on f.scored_for = r.scored_for and f.user_id = r.user_id and f.sale_id = r.sale_id
    where r.rank <= 10
),

weights as (
    select term as feature, coefficient / scale as weight, center
    from {{ ref('int_meta_served') }}
    where slot = 'served' and term <> '(intercept)'
),

contributions as (
    {% for f in features %}
    select
        t.scored_for, t.user_id, t.sale_id, '{{ f }}' as feature,
        case when t.{{ f }} > w.center then 'high' else 'low' end as direction,
        w.weight * (t.{{ f }} - w.center) as contribution
    from top_10 as t
    inner join weights as w
        on w.feature = '{{ f }}'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

largest as (
    select scored_for, user_id, sale_id, feature, direction, contribution
    from (
        select
            c.*,
            row_number() over (
                partition by c.scored_for, c.user_id, c.sale_id order by c.contribution desc, c.feature
            ) as position
        from contributions as c
    ) as ordered
    where position = 1
),

main_theme as (
    select sale_id, theme_name
    from (
        select
            s.sale_id,
            f.theme_name,
            row_number() over (partition by s.sale_id order by s.score_pct desc, s.theme_id) as position
        from {{ ref('int_sale_themes') }} as s
        inner join (
            select distinct f.theme_id, f.theme_name
            from {{ ref('int_theme_fits') }} as f
            inner join {{ ref('int_scoring_days') }} as d
                on d.scored_for = f.fitted_for
            where d.is_nightly
        ) as f
            on f.theme_id = s.theme_id
    ) as ordered
    where position = 1
),

fallback as (
    select phrase from {{ ref('explanation_phrases') }} where feature = '(none)'
)

select
    t.scored_for,
    t.user_id,
    t.rank,
    t.sale_id,
    t.meta_score as score,
    t.model_version,
    case
        when l.contribution > 0 and p.phrase is not null
            then replace(p.phrase, '{theme}', coalesce(m.theme_name, 'the photos'))
        else fb.phrase
    end as explanation,
    case when l.contribution > 0 and p.phrase is not null then l.feature else '(none)' end as explained_by
from top_10 as t
inner join largest as l
    on l.scored_for = t.scored_for and l.user_id = t.user_id and l.sale_id = t.sale_id
left join {{ ref('explanation_phrases') }} as p
    on p.feature = l.feature and p.direction = l.direction
left join main_theme as m
    on m.sale_id = t.sale_id
cross join fallback as fb
