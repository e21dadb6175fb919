{#-
  Public. Tonight's scores: every recommender's score and rank and every signal of each pair tonight scores, for
  BI tools and other teams to read without the history days.
  Grain and key: (scored_for, user_id, sale_id), one row per active customer and candidate sale open on run_date
  (candidates, not every open sale: see int_candidates and candidate_coverage); never a sale the customer already
  bought. The columns are the declared ones (macros/recommenders.sql, scored_feature_columns), in their order.
  A view, not a table: its rows are tonight's rows of int_candidate_features, and a second copy of them would cost
  about as much as computing them (the nightly publication copies this view's rows to Parquet).
-#}
{{ config(materialized='view') }}
select
    f.scored_for,
    f.user_id,
    f.sale_id,
    {%- for column in scored_feature_columns() %}
    f.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref('int_candidate_features') }} as f
inner join {{ ref('int_scoring_days') }} as d
    on d.scored_for = f.scored_for
where d.is_nightly
