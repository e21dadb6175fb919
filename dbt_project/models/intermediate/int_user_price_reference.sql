{#- Each scored customer's usual price as of the day: the median price of the sales they visited in the lookback. -#}
select
    w.scored_for,
    w.user_id,
    {{ median('s.price_eur') }} as median_visited_price_eur
from {{ ref('int_user_window_sales') }} as w
inner join {{ ref('int_scoring_users') }} as u
    on u.scored_for = w.scored_for
    and u.user_id = w.user_id
inner join {{ ref('stg_sales') }} as s
    on s.sale_id = w.sale_id
group by w.scored_for, w.user_id
