{{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
          partition_by=as_of_partition(), pre_hook="{{ prune_stale_days() }}") }}
{#-
  What each scored customer's content profile is made of, as of each scoring day: the weight of every sale they
  visited or bought in [scored_for - profile_lookback_days, scored_for), each event weighted (a purchase counts
  purchase_weight visits) and decayed exponentially with a half-life of profile_half_life_days, summed per sale.
  The profiles themselves are scoring/int_user_profiles.
  Incremental by day (macros/as_of_days.sql): a night computes only the days without rows (tonight, yesterday,
  a day whose role or inputs changed).
-#}
with events as (
    select user_id, sale_id, visited_on as event_on, cast(visits as double) as weight
    from {{ ref('int_daily_visits') }}

    union all

    select user_id, sale_id, purchased_on as event_on, cast({{ var('purchase_weight') }} as double) as weight
    from {{ ref('stg_purchases') }}
)

select
    u.scored_for,
    u.user_id,
    e.sale_id,
    sum(
        e.weight * exp(-ln(2.0) * {{ dbt.datediff('e.event_on', 'u.scored_for', 'day') }}
            / {{ var('profile_half_life_days') }})
    ) as weight,
    d.inputs_key
from {{ ref('int_scoring_users') }} as u
inner join ({{ days_to_compute() }}) as d
    on d.scored_for = u.scored_for
inner join events as e
    on e.user_id = u.user_id
    and e.event_on < u.scored_for
    and e.event_on >= {{ add_days('u.scored_for', -var('profile_lookback_days')) }}
group by u.scored_for, u.user_id, e.sale_id, d.inputs_key
