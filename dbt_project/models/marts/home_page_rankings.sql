{#-
  Public. Tonight's home page of every active customer: the top 10 open sales by the night's ranker (the meta
  model's P(purchase), or the best single recommender's score while the history is too short for the meta model;
  int_night_ranker), ties broken by the smaller sale_id (int_home_page_picks), never a sale the customer already
  bought (the candidates never hold one), with the ranker's model version and an explanation: for the meta model
  the feature with the largest contribution (weight x deviation from the training mean), for a single recommender
  its own feature, in the words of seeds/explanation_phrases.csv ("{theme}" becomes the sale's main theme).
-#}
{%- set features = var('meta_features').keys() | list %}
with picked as (
    -- the picks' rows of int_candidate_features: their features are computed after the join (the picks, not every
    -- scored pair), over this one relation, where the feature expressions name its columns
    select f.*, r.rank, r.score, r.ranker, r.model_version
    from {{ ref('int_home_page_picks') }} as r
    inner join {{ ref('int_candidate_features') }} as f
        on f.scored_for = r.scored_for and f.user_id = r.user_id and f.sale_id = r.sale_id
),

top_10 as (
    select scored_for, user_id, rank, sale_id, score, ranker, model_version, {{ meta_feature_columns() }}
    from picked
),

weights as (
    -- the served model's weight (coefficient / scale) and center per feature, one row
    select * from ({{ meta_model_weights() }}) as m
    where slot = 'served'
),

contributions as (
    -- each feature's contribution to the logit: weight x (value - center)
    select
        t.scored_for, t.user_id, t.sale_id
        {%- for f in features %},
        w.{{ f }}__weight * (t.{{ f }} - w.{{ f }}__center) as {{ f }}__contribution,
        t.{{ f }} > w.{{ f }}__center as {{ f }}__is_high
        {%- endfor %}
    from top_10 as t
    left join weights as w
        on 1 = 1
),

largest as (
    -- the largest contribution, ties to the first feature by name; one pass, no sort
    select
        c.scored_for, c.user_id, c.sale_id,
        {% if features | length > 1 -%}
        greatest({% for f in features %}c.{{ f }}__contribution{{ ', ' if not loop.last }}{% endfor %})
        {%- else -%}
        c.{{ features[0] }}__contribution
        {%- endif %} as contribution
        {%- for f in features %},
        c.{{ f }}__contribution,
        c.{{ f }}__is_high
        {%- endfor %}
    from contributions as c
),

explained as (
    select
        l.scored_for, l.user_id, l.sale_id, l.contribution,
        case
            {%- for f in features | sort %}
            when l.{{ f }}__contribution = l.contribution then '{{ f }}'
            {%- endfor %}
        end as feature,
        case
            {%- for f in features | sort %}
            when l.{{ f }}__contribution = l.contribution
                then case when l.{{ f }}__is_high then 'high' else 'low' end
            {%- endfor %}
        end as direction
    from largest as l
),

main_theme as (
    select sale_id, theme_name
    from (
        select
            s.sale_id,
            f.theme_name,
            row_number() over (partition by s.sale_id order by s.score_pct desc, s.theme_id) as position
        from {{ ref('int_sale_themes') }} as s
        inner join (select theme_id, name as theme_name from {{ ref('theme_catalog') }}) as f
            on f.theme_id = s.theme_id
    ) as ordered
    where position = 1
),

fallback as (
    select phrase from {{ ref('explanation_phrases') }} where feature = '(none)'
),

ranker_features as (
    -- a night ranked by a single recommender explains each pick by that recommender's phrase
    {%- for name, _, feature in single_recommenders() %}
    select '{{ name }}' as ranker, '{{ feature }}' as feature
    {%- if not loop.last %}
    union all{% endif %}
    {%- endfor %}
),

reasons as (
    select
        t.scored_for,
        t.user_id,
        t.rank,
        t.sale_id,
        t.score,
        t.model_version,
        case
            when t.ranker = 'meta' and l.contribution > 0 and p.phrase is not null then l.feature
            when t.ranker <> 'meta' and t.score > 0 and sp.phrase is not null then rf.feature
            else '(none)'
        end as explained_by,
        case when t.ranker = 'meta' then p.phrase else sp.phrase end as phrase
    from top_10 as t
    inner join explained as l
        on l.scored_for = t.scored_for and l.user_id = t.user_id and l.sale_id = t.sale_id
    left join {{ ref('explanation_phrases') }} as p
        on p.feature = l.feature and p.direction = l.direction
    left join ranker_features as rf
        on rf.ranker = t.ranker
    left join {{ ref('explanation_phrases') }} as sp
        on sp.feature = rf.feature and sp.direction = 'high'
)

select
    r.scored_for,
    r.user_id,
    r.rank,
    r.sale_id,
    r.score,
    r.model_version,
    case
        when r.explained_by <> '(none)' then replace(r.phrase, '{theme}', coalesce(m.theme_name, 'the photos'))
        else fb.phrase
    end as explanation,
    r.explained_by
from reasons as r
left join main_theme as m
    on m.sale_id = r.sale_id
cross join fallback as fb
