{#-
  The meta model's features (var meta_features) for every scored pair: tonight's candidates and the history
  days' open sales. A view: the expressions are cheap, the rows are int_candidate_features'.
-#}
{{ config(materialized='view') }}
select
    scored_for,
    user_id,
    sale_id,
    is_candidate,
    {{ meta_feature_columns() }}
from {{ ref('int_candidate_features') }}
