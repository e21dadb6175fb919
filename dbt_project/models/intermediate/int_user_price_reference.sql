{{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
          partition_by=as_of_partition(), pre_hook="{{ prune_stale_days() }}") }}
{#-
  Each scored customer's usual price as of the day: the median price of the sales they visited in the lookback.
  Incremental by day (macros/as_of_days.sql): a night computes only the days without rows (tonight, yesterday,
  a day whose role or inputs changed).
-#}
select
    w.scored_for,
    w.user_id,
    {{ median('s.price_eur') }} as median_visited_price_eur,
    d.inputs_key
from {{ ref('int_user_window_sales') }} as w
inner join ({{ days_to_compute() }}) as d
    on d.scored_for = w.scored_for
inner join {{ ref('int_scoring_users') }} as u
    on u.scored_for = w.scored_for
    and u.user_id = w.user_id
inner join {{ ref('stg_sales') }} as s
    on s.sale_id = w.sale_id
group by w.scored_for, w.user_id, d.inputs_key
