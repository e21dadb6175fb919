{#-
  Collaborative-filtering score of each scored customer u for each sale j open on the day:
    cf_score(u, j) = sum over the sales i that u visited in the lookback of sim(i, j).
  Only pairs with a non-zero score are rows (a sparse join, not a cross product).
-#}
{{ config(enabled=var('scoring_engine') == 'sql') }}
select
    u.scored_for,
    u.user_id,
    s.sale_id,
    sum(s.similarity) as cf_score
from {{ ref('int_scoring_users') }} as u
inner join {{ ref('int_user_window_sales') }} as w
    on w.scored_for = u.scored_for
    and w.user_id = u.user_id
inner join {{ ref('int_cf_similarity') }} as s
    on s.scored_for = w.scored_for
    and s.neighbour_sale_id = w.sale_id
group by u.scored_for, u.user_id, s.sale_id
