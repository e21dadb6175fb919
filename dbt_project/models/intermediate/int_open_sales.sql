{{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
          partition_by=as_of_partition(), pre_hook="{{ prune_stale_days() }}") }}
{#-
  The sales open on each scoring day (opens_on <= scored_for <= closes_on), with their age and time left.
  Incremental by day (macros/as_of_days.sql): a night computes only the days without rows (tonight, yesterday,
  a day whose role or inputs changed).
-#}
select
    d.scored_for,
    s.sale_id,
    s.price_eur,
    cast({{ dbt.datediff('s.opens_on', 'd.scored_for', 'day') }} as bigint) as days_since_open,
    cast({{ dbt.datediff('d.scored_for', 's.closes_on', 'day') }} as bigint) as days_left,
    d.inputs_key
from ({{ days_to_compute() }}) as d
inner join {{ ref('stg_sales') }} as s
    on s.opens_on <= d.scored_for
    and s.closes_on >= d.scored_for
