{{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
          partition_by=as_of_partition(), pre_hook="{{ prune_stale_days() }}") }}
{#-
  Who is scored on each day. The night: every active customer (a visit in the last active_lookback_days).
  History days: every customer who bought that day (training positives and the purchase target of evaluation), and
  on evaluation days a seeded sample of the day's visitors (the visit target).
  Incremental by day (macros/as_of_days.sql): a night computes only the days without rows (tonight, yesterday,
  a day whose role or inputs changed).
-#}
with days as (
    {{ days_to_compute() }}
),

active_tonight as (
    select distinct d.scored_for, v.user_id
    from days as d
    inner join {{ ref('int_daily_visits') }} as v
        on v.visited_on < d.scored_for
        and v.visited_on >= {{ add_days('d.scored_for', -var('active_lookback_days')) }}
    where d.is_nightly
),

buyers as (
    select distinct d.scored_for, p.user_id
    from days as d
    inner join {{ ref('stg_purchases') }} as p
        on p.purchased_on = d.scored_for
    where d.is_training or d.is_evaluation
),

visitors as (
    select scored_for, user_id
    from (
        select
            d.scored_for,
            v.user_id,
            row_number() over (
                partition by d.scored_for
                order by {{ stable_uniform(['v.user_id', 'd.scored_for'], var('sampling_seed')) }}, v.user_id
            ) as draw
        from days as d
        inner join (select distinct user_id, visited_on from {{ ref('int_daily_visits') }}) as v
            on v.visited_on = d.scored_for
        where d.is_evaluation
    ) as drawn
    where draw <= {{ var('evaluation_visitors_per_day') }}
),

everyone as (
    select scored_for, user_id from active_tonight
    union
    select scored_for, user_id from buyers
    union
    select scored_for, user_id from visitors
)

select
    e.scored_for,
    e.user_id,
    a.user_id is not null as is_active_tonight,
    b.user_id is not null as is_buyer,
    v.user_id is not null as is_sampled_visitor,
    d.inputs_key
from everyone as e
inner join days as d on d.scored_for = e.scored_for
left join active_tonight as a on a.scored_for = e.scored_for and a.user_id = e.user_id
left join buyers as b on b.scored_for = e.scored_for and b.user_id = e.user_id
left join visitors as v on v.scored_for = e.scored_for and v.user_id = e.user_id
