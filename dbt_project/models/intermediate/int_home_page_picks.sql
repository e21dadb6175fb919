{#-
  Tonight's 10 best candidates of each active customer by the night's ranker (int_night_ranker: the served meta
  model's P(purchase), or on a night without one the best single recommender's score), ranked 1 to 10 (ties to the
  smaller sale_id): the rows home_page_rankings explains. Grain: (user_id, rank).
  Tonight's candidates are scored here, by the macros int_meta_scores uses for the evaluation days, and only the
  picks are written, so the explanations join the picks, not every scored pair. The night is one day (a scalar
  subquery: more than one nightly day is an error), so the top 10 partitions by customer alone.
-#}
{%- set singles = single_recommenders() %}
with weights as (
    {{ meta_model_weights() }}
),

served as (
    select * from weights where slot = 'served'
),

ranker as (
    select ranker, model_version from {{ ref('int_night_ranker') }}
),

features as (
    select
        scored_for,
        user_id,
        sale_id,
        {%- for name, score, _ in singles %}
        cast({{ score }} as double) as {{ name }}__score,
        {%- endfor %}
        {{ meta_feature_columns() }}
    from {{ ref('int_candidate_features') }}
    where is_candidate
        and scored_for = (select scored_for from {{ ref('int_scoring_days') }} where is_nightly)
),

tonight as (
    -- the night's ranker's score: the served meta model's P(purchase), or a single recommender's score
    select
        f.scored_for,
        f.user_id,
        f.sale_id,
        case r.ranker
            when 'meta' then {{ meta_probability(meta_logit('f', 's')) }}
            {%- for name, _, _ in singles %}
            when '{{ name }}' then f.{{ name }}__score
            {%- endfor %}
        end as score
    from features as f
    cross join ranker as r
    left join served as s
        on 1 = 1
)

select best.scored_for, best.user_id, best.rank, best.sale_id, best.score, ranker.ranker, ranker.model_version
from {{ top_n('tonight', ['user_id'], 'sale_id', 'score', 10,
              carry=['scored_for', 'score'], rank_as='rank') }} as best
cross join ranker
