{#-
  The meta model's training set: the pairs of int_training_pairs (each purchase of a history day -> label 1; for
  each purchase, negatives_per_purchase sales open that day that the customer did not buy -> label 0, drawn by a
  seeded hash) with their features. Features are those of the day's scoring, so they use only events before the day.
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
    f.cf_score,
    f.cb_text_score,
    f.cb_destination_score,
    f.cb_price_score,
    f.cb_image_score,
    f.cf_rank,
    f.cb_text_rank,
    f.cb_destination_rank,
    f.cb_price_rank,
    f.cb_image_rank,
    f.popularity_visits,
    f.popularity_rank,
    f.user_sale_visits,
    f.days_since_open,
    f.days_left,
    f.price_eur,
    f.price_ratio
from examples as e
inner join days as d
    on d.scored_for = e.scored_for
inner join {{ ref('int_candidate_features') }} as f
    on f.scored_for = e.scored_for and f.user_id = e.user_id and f.sale_id = e.sale_id
