{#-
  Each customer's visits to a sale as spells: runs of visit days where no two consecutive visit days are more than
  cf_lookback_days apart. A customer is in the lookback [d - cf_lookback_days, d) of sale s on day d exactly when
  d falls in the validity of one of their spells, [first_visited_on + 1, last_visited_on + cf_lookback_days]
  (validities of two spells never overlap). Collaborative filtering reads spells instead of materialising the
  customer x sale window of every day: one row per (customer, sale) in practice, valid for a range of days.
  Almost every (customer, sale) is a single spell (a sale is open a few days): only those whose visits span more
  than the lookback go through the gap search. Only the visits that can be in the lookback of a scoring day are
  read ([first scoring day - cf_lookback_days, last scoring day)): the spells are those of this run's days.
-#}
with bounds as (
    select min(scored_for) as first_day, max(scored_for) as last_day
    from {{ ref('int_scoring_days') }}
),

visits as (
    select v.user_id, v.sale_id, v.visited_on, v.visits
    from {{ ref('int_daily_visits') }} as v
    cross join bounds as b
    where v.visited_on < b.last_day
        and v.visited_on >= {{ add_days('b.first_day', -var('cf_lookback_days')) }}
),

spans as (
    select
        user_id,
        sale_id,
        min(visited_on) as first_visited_on,
        max(visited_on) as last_visited_on,
        sum(visits) as visits
    from visits
    group by user_id, sale_id
),

long_spans as (
    select v.user_id, v.sale_id, v.visited_on, v.visits
    from visits as v
    inner join spans as s
        on s.user_id = v.user_id and s.sale_id = v.sale_id
    where s.last_visited_on > {{ add_days('s.first_visited_on', var('cf_lookback_days')) }}
),

gaps as (
    select
        user_id,
        sale_id,
        visited_on,
        visits,
        case
            when lag(visited_on) over (partition by user_id, sale_id order by visited_on) is null then 1
            when {{ dbt.datediff('lag(visited_on) over (partition by user_id, sale_id order by visited_on)',
                                 'visited_on', 'day') }} > {{ var('cf_lookback_days') }} then 1
            else 0
        end as starts_spell
    from long_spans
),

numbered as (
    select
        *,
        sum(starts_spell) over (
            partition by user_id, sale_id order by visited_on rows between unbounded preceding and current row
        ) as spell
    from gaps
)

select user_id, sale_id, 1 as spell, first_visited_on, last_visited_on, visits
from spans
where last_visited_on <= {{ add_days('first_visited_on', var('cf_lookback_days')) }}

union all

select user_id, sale_id, spell, min(visited_on) as first_visited_on, max(visited_on) as last_visited_on,
    sum(visits) as visits
from numbered
group by user_id, sale_id, spell
