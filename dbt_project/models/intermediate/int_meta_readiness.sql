{#-
  Whether tonight's history can train the meta model, one row per night. The model learns from the purchases of the
  training days before the evaluation days (those stay unseen, int_training_examples) and chooses its
  regularisation on the last meta_validation_days of them, so it needs purchases on meta_min_training_days of those
  days. Until then int_meta_fits trains nothing and the night is ranked by the best single recommender
  (int_night_ranker); the first night with enough days trains and serves the meta model, with no switch to flip.
-#}
with learnable as (
    select count(distinct example_on) as purchase_days
    from {{ ref('int_training_examples') }}
    where label = 1 and not is_evaluation_day
)

select
    d.run_date,
    l.purchase_days,
    {{ var('meta_min_training_days') }} as required_days,
    l.purchase_days >= {{ var('meta_min_training_days') }} as is_ready
from {{ ref('int_scoring_days') }} as d
cross join learnable as l
where d.is_nightly
