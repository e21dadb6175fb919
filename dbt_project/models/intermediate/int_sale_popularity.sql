{{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
          partition_by=as_of_partition(), pre_hook="{{ prune_stale_days() }}") }}
{#-
  Popularity of each open sale as of each scoring day: its visits and distinct visitors in the last
  popularity_days days, and its rank among the day's open sales (1 = most visited; ties by sale_id).
  Incremental by day (macros/as_of_days.sql): a night computes only the days without rows (tonight, yesterday,
  a day whose role or inputs changed).
-#}
with recent as (
    select
        o.scored_for,
        o.sale_id,
        coalesce(sum(v.visits), 0) as recent_visits,
        count(v.user_id) as recent_visitors,
        d.inputs_key
    from {{ ref('int_open_sales') }} as o
    inner join ({{ days_to_compute() }}) as d
        on d.scored_for = o.scored_for
    left join {{ ref('int_daily_visits') }} as v
        on v.sale_id = o.sale_id
        and v.visited_on < o.scored_for
        and v.visited_on >= {{ add_days('o.scored_for', -var('popularity_days')) }}
    group by o.scored_for, o.sale_id, d.inputs_key
)

select
    scored_for,
    sale_id,
    cast(recent_visits as bigint) as recent_visits,
    recent_visitors,
    cast(row_number() over (partition by scored_for order by recent_visits desc, sale_id) as bigint) as popularity_rank,
    inputs_key
from recent
