{#-
  Each recommender's top list for each scored customer and scoring day: one row per (scoring day, customer,
  recommender, sale) for its candidates_per_recommender best sales, with recommender_rank = 1 for its best. Ranked
  by the score rounded to 10 decimals, as int_candidate_features serves it (sums added in another order give the same
  order), ties to the smaller sale_id; a sale it scores 0 is in no list. One top list per recommender, each read
  from its source on its own, so that a night's pairs are never all held at once.
-#}
{%- set recommenders = scored_recommenders() %}
{%- for r in recommenders %}
{{ 'union all' if not loop.first }}

select scored_for, user_id, '{{ r.name }}' as recommender, sale_id, recommender_rank
from {{ top_n_keys(
    '(select scored_for, user_id, sale_id, round(score, 10) as score from ' ~ ref(r.source)
        ~ " where recommender = '" ~ r.name ~ "' and round(score, 10) > 0 and " ~ in_customer_bucket('user_id') ~ ")",
    ['scored_for', 'user_id'], 'sale_id', 'score', var('candidates_per_recommender'), rank_as='recommender_rank'
) }} as {{ r.name }}_top
{%- endfor %}
