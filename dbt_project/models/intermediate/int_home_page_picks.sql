{#-
  Tonight's 10 best candidates of each active customer by the served meta model's P(purchase), ranked 1 to 10
  (ties to the smaller sale_id): the rows home_page_rankings explains. Tonight's candidates are scored here, by
  the macros int_meta_scores uses for the evaluation days (meta_features.sql), and only the picks are written.
  A table of its own: the ranking rules are tested apart from the explanations, and the explanation's join to the
  1 M-customer night's feature rows hashes the 8 M picks, not the features. The top 10 is top_n's row_number()
  window: ranked_top_n's bounded min_by was 4x faster run alone, but in the night's build, beside
  int_evaluation_ranks under the same 5 GB limit, it spilled until the disk was full (over 30 GB), where the
  window spills in bounded sorted runs. The night is one day (a scalar subquery: more than one nightly day is an
  error), so the window partitions by customer alone: 23.8 s against 29.7 s by (day, customer) at 1 M customers.
  The model version is the night's served one.
-#}
with weights as (
    {{ meta_model_weights() }}
),

served as (
    select * from weights where slot = 'served'
),

features as (
    select
        scored_for,
        user_id,
        sale_id,
        {{ meta_feature_columns() }}
    from {{ ref('int_candidate_features') }}
    where is_candidate
        and scored_for = (select scored_for from {{ ref('int_scoring_days') }} where is_nightly)
),

tonight as (
    select f.scored_for, f.user_id, f.sale_id, {{ meta_probability(meta_logit('f', 's')) }} as meta_score
    from features as f
    cross join served as s
)

select best.scored_for, best.user_id, best.rank, best.sale_id, best.meta_score, served.model_version
from {{ top_n('tonight', ['user_id'], 'sale_id', 'meta_score', 10,
              carry=['scored_for', 'meta_score'], rank_as='rank') }} as best
cross join served
