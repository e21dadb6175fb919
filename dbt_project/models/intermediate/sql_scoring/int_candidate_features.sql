{#-
  Every recommender score and signal for each scored pair: one column per recommender / signal, 0 where a sparse
  recommender had nothing to say. The one table the marts (tonight's scores, training set, evaluation) read.
  Scores are rounded to 10 decimals: parallel sums add in a varying order, and the last bits of a double would
  otherwise differ from one run to the next (a rerun for the same date must give the same result).
-#}
{{ config(enabled=var('scoring_engine') == 'sql') }}
with content as (
    -- only the scored pairs' rows of the (long, nearly dense) content scores, pivoted to one column per family
    select
        c.scored_for,
        c.user_id,
        c.sale_id,
        sum(case when s.family = 'text' then s.score else 0 end) as cb_text_score,
        sum(case when s.family = 'destination' then s.score else 0 end) as cb_destination_score,
        sum(case when s.family = 'price' then s.score else 0 end) as cb_price_score,
        sum(case when s.family = 'image' then s.score else 0 end) as cb_image_score
    from {{ ref('int_candidates') }} as c
    inner join {{ ref('int_content_scores') }} as s
        on s.scored_for = c.scored_for and s.user_id = c.user_id and s.sale_id = c.sale_id
    group by c.scored_for, c.user_id, c.sale_id
)

select
    c.scored_for,
    c.user_id,
    c.sale_id,
    c.is_candidate,
    round(coalesce(cf.cf_score, 0), 10) as cf_score,
    round(coalesce(cb.cb_text_score, 0), 10) as cb_text_score,
    round(coalesce(cb.cb_destination_score, 0), 10) as cb_destination_score,
    round(coalesce(cb.cb_price_score, 0), 10) as cb_price_score,
    round(coalesce(cb.cb_image_score, 0), 10) as cb_image_score,
    c.cf_rank,
    c.cb_text_rank,
    c.cb_destination_rank,
    c.cb_price_rank,
    c.cb_image_rank,
    p.recent_visits as popularity_visits,
    p.popularity_rank,
    coalesce(w.visits, 0) as user_sale_visits,
    o.days_since_open,
    o.days_left,
    o.price_eur,
    round(o.price_eur / r.median_visited_price_eur, 10) as price_ratio
from {{ ref('int_candidates') }} as c
inner join {{ ref('int_open_sales') }} as o
    on o.scored_for = c.scored_for and o.sale_id = c.sale_id
inner join {{ ref('int_sale_popularity') }} as p
    on p.scored_for = c.scored_for and p.sale_id = c.sale_id
left join {{ ref('int_cf_scores') }} as cf
    on cf.scored_for = c.scored_for and cf.user_id = c.user_id and cf.sale_id = c.sale_id
left join content as cb
    on cb.scored_for = c.scored_for and cb.user_id = c.user_id and cb.sale_id = c.sale_id
left join {{ ref('int_user_window_sales') }} as w
    on w.scored_for = c.scored_for and w.user_id = c.user_id and w.sale_id = c.sale_id
left join {{ ref('int_user_price_reference') }} as r
    on r.scored_for = c.scored_for and r.user_id = c.user_id
