{{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
          partition_by=as_of_partition(), pre_hook="{{ prune_stale_days() }}") }}
{#-
  For each scoring day and each customer scored that day, the sales they visited in the collaborative-filtering
  lookback [scored_for - cf_lookback_days, scored_for). Only scored customers: tonight every active customer, on
  history days a few thousand (buyers, sampled visitors). The item-item similarity, which needs every customer's
  window, reads int_user_sale_spells instead of a per-day copy of the whole matrix.
  Incremental by day (macros/as_of_days.sql): a night computes only the days without rows (tonight, yesterday,
  a day whose role or inputs changed).
-#}
select
    u.scored_for,
    v.user_id,
    v.sale_id,
    cast(sum(v.visits) as bigint) as visits,
    max(v.visited_on) as last_visited_on,
    d.inputs_key
from {{ ref('int_scoring_users') }} as u
inner join ({{ days_to_compute() }}) as d
    on d.scored_for = u.scored_for
inner join {{ ref('int_daily_visits') }} as v
    on v.user_id = u.user_id
    and v.visited_on < u.scored_for
    and v.visited_on >= {{ add_days('u.scored_for', -var('cf_lookback_days')) }}
group by u.scored_for, v.user_id, v.sale_id, d.inputs_key
