{#-
  For each scoring day, the sales each customer visited in the collaborative-filtering lookback
  [scored_for - cf_lookback_days, scored_for): the binary user x sale matrix of item-item CF, as rows.
-#}
select
    d.scored_for,
    v.user_id,
    v.sale_id,
    sum(v.visits) as visits,
    max(v.visited_on) as last_visited_on
from {{ ref('int_scoring_days') }} as d
inner join {{ ref('int_daily_visits') }} as v
    on v.visited_on < d.scored_for
    and v.visited_on >= {{ add_days('d.scored_for', -var('cf_lookback_days')) }}
group by d.scored_for, v.user_id, v.sale_id
