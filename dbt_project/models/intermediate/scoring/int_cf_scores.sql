{#-
  The collaborative-filtering recommenders' scores, one row per (scoring day, scored customer, open sale,
  recommender) with a score above 0. From the item-item similarity (int_cf_similarity) of the sales the customer
  visited in the CF lookback (int_user_window_sales):
    cf         sum of sim(i, j) over every sale i the customer visited in the last cf_lookback_days days
    cf_recent  the same sum over the sales visited in the last cf_recent_days days only (what they look at now)
  A sparse join, not a cross product: a sale with no similar visited sale has no row (its score is 0).
-#}
with visited_neighbours as (
    select
        w.scored_for,
        w.user_id,
        s.sale_id,
        s.similarity,
        w.last_visited_on >= {{ add_days('w.scored_for', -var('cf_recent_days')) }} as is_recent
    from {{ ref('int_scoring_users') }} as u
    inner join {{ ref('int_user_window_sales') }} as w
        on w.scored_for = u.scored_for
        and w.user_id = u.user_id
    inner join {{ ref('int_cf_similarity') }} as s
        on s.scored_for = w.scored_for
        and s.neighbour_sale_id = w.sale_id
    -- both sides of the customer join, so that each bucket reads its own window sales only
    where {{ in_customer_bucket('u.user_id') }} and {{ in_customer_bucket('w.user_id') }}
),

sums as (
    select
        scored_for,
        user_id,
        sale_id,
        sum(similarity) as cf,
        sum(case when is_recent then similarity else 0 end) as cf_recent
    from visited_neighbours
    group by scored_for, user_id, sale_id
)

select scored_for, user_id, sale_id, 'cf' as recommender, cf as score
from sums

union all

select scored_for, user_id, sale_id, 'cf_recent' as recommender, cf_recent as score
from sums
where cf_recent > 0
