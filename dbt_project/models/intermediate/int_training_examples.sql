{#-
  The meta model's training set: the pairs of int_training_pairs (each purchase of a history day -> label 1; for
  each purchase, negatives_per_purchase sales open that day that the customer did not buy -> label 0, drawn by a
  seeded hash) with their features. Features are those of the day's scoring, so they use only events before the day.
  Grain and key: (example_on, user_id, sale_id). The feature columns are the declared ones
  (macros/recommenders.sql, scored_feature_columns), in their order, so that the training set follows a new
  recommender without an edit here.
-#}
with days as (
    select scored_for, is_evaluation
    from {{ ref('int_scoring_days') }}
    where is_training
),

examples as (
    select scored_for, user_id, sale_id, label, amount_eur
    from {{ ref('int_training_pairs') }}
)

select
    e.scored_for as example_on,
    e.user_id,
    e.sale_id,
    e.label,
    e.amount_eur,
    d.is_evaluation as is_evaluation_day,
    {%- for column in scored_feature_columns() %}
    f.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from examples as e
inner join days as d
    on d.scored_for = e.scored_for
inner join {{ ref('int_candidate_features') }} as f
    on f.scored_for = e.scored_for and f.user_id = e.user_id and f.sale_id = e.sale_id
