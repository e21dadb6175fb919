{#-
  Tonight's scores (public): one row per active customer and candidate sale open on run_date, one column per
  recommender and signal. Candidates, not the full cross product: see int_candidate_features and
  candidate_coverage. Never a sale the customer already bought.
  A view: tonight's rows of int_candidate_features are ~128 M at a million customers, and a second copy of them
  cost as much as computing them (the nightly publication copies this view's rows to Parquet for BI tools).
-#}
{{ config(materialized='view') }}
select
    f.scored_for,
    f.user_id,
    f.sale_id,
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
    f.user_sale_visits,
    f.days_since_open,
    f.days_left,
    f.price_eur,
    f.price_ratio
from {{ ref('int_candidate_features') }} as f
inner join {{ ref('int_scoring_days') }} as d
    on d.scored_for = f.scored_for
where d.is_nightly
