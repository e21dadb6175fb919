{{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
          pre_hook="{{ prune_stale_days() }}") }}
{#-
  Item-item collaborative filtering, as of each scoring day: for every sale j open that day, its neighbours i with
    sim(i, j) = co_visitors(i, j) / sqrt(visitors(i) * visitors(j))
  (cosine over the binary customer x sale matrix of visits in the lookback [d - cf_lookback_days, d)), keeping
  pairs with at least cf_min_covisits co-visitors and the cf_top_k most similar neighbours of each j.

  Without a per-day copy of the matrix: a customer is in sale s's lookback on the days of one of their spells'
  validity (int_user_sale_spells). A customer who visited both i and j co-visits them on the intersection of the
  two validities, so each customer's pair is enumerated once for all the scoring days, counted per (j, i, first
  day, last day), and only these counts are spread over the scoring days. Same numbers as the per-day self-join.

  For speed (the self-join yields 157 M customer pairs on a 31-day night of 1 M customers): days are numbered from
  the first scoring day (day_no) and sales densely in sale_id order (sale_no, 0 .. sale_count - 1), so that the
  groups are single integer keys: (j, i, first day, last day) packs into
  ((j * sale_count + i) * day_count + first day) * day_count + last day, (j, i, day) into
  (j * sale_count + i) * day_count + day, and (sale, day) into sale * day_count + day; all below
  (sale_count * day_count)^2, far from 2^63 (sale_count counts the sales, whatever their ids). The spells are read
  in user_id order (order_for_locality; on DuckDB the self-join on user_id then took 7 s instead of 26 s), and the
  top cf_top_k come from ranked_top_n (a bounded min_by aggregate on DuckDB instead of a row_number window).
  Incremental by day (macros/as_of_days.sql): a night computes only the days without rows (tonight, yesterday,
  a day whose role or inputs changed).
-#}
with days as (
    select scored_for, inputs_key from ({{ days_to_compute() }}) as todo
),

bounds as (
    select
        min(scored_for) as first_day,
        max(scored_for) as last_day,
        {{ dbt.datediff('min(scored_for)', 'max(scored_for)', 'day') }} + 1 as day_count
    from days
),

numbered_days as (
    select d.scored_for, d.inputs_key, {{ dbt.datediff('b.first_day', 'd.scored_for', 'day') }} as day_no
    from days as d
    cross join bounds as b
),

-- every spell valid on some scoring day, [valid_from, valid_to] clipped to the scored days, as day numbers
window_spells as (
    select
        s.user_id,
        s.sale_id,
        greatest({{ dbt.datediff('b.first_day', 's.first_visited_on', 'day') }} + 1, 0) as valid_from,
        least(
            {{ dbt.datediff('b.first_day', 's.last_visited_on', 'day') }} + {{ var('cf_lookback_days') }},
            b.day_count - 1
        ) as valid_to
    from {{ ref('int_user_sale_spells') }} as s
    cross join bounds as b
    where s.first_visited_on < b.last_day
        and s.last_visited_on >= {{ add_days('b.first_day', -var('cf_lookback_days')) }}
),

-- (every sale of int_user_sale_spells, which only holds the visits of this run's lookbacks)
sale_numbers as (
    select sale_id, row_number() over (order by sale_id) - 1 as sale_no
    from (select distinct sale_id from {{ ref('int_user_sale_spells') }}) as visited_sales
),

sale_count as (
    select count(*) as sale_count from sale_numbers
),

-- neighbour_key: the neighbour's part of the packed (j, i, first day, last day)
spells as (
    select s.user_id, n.sale_no, s.valid_from, s.valid_to, n.sale_no * b.day_count * b.day_count as neighbour_key
    from window_spells as s
    inner join sale_numbers as n
        on n.sale_id = s.sale_id
    cross join bounds as b
    {{ order_for_locality(['s.user_id']) }}
),

open_days as (
    select n.sale_no, d.day_no
    from {{ ref('int_open_sales') }} as o
    inner join sale_numbers as n
        on n.sale_id = o.sale_id
    inner join numbered_days as d
        on d.scored_for = o.scored_for
),

open_range as (
    select sale_no, min(day_no) as open_from, max(day_no) as open_to
    from open_days
    group by sale_no
),

-- spells of the sales open on a scoring day, clipped to the days the sale is open; sale_key: j's part of the key
open_spells as (
    select
        s.user_id,
        s.sale_no,
        greatest(s.valid_from, o.open_from) as valid_from,
        least(s.valid_to, o.open_to) as valid_to,
        s.neighbour_key * c.sale_count as sale_key
    from spells as s
    inner join open_range as o
        on o.sale_no = s.sale_no
    cross join sale_count as c
    where s.valid_from <= o.open_to
        and s.valid_to >= o.open_from
),

sale_visitor_ranges as (
    select sale_no, valid_from, valid_to, count(*) as visitors
    from spells
    group by sale_no, valid_from, valid_to
),

sale_visitors as (
    select r.sale_no * b.day_count + d.day_no as sale_day, cast(sum(r.visitors) as bigint) as visitors
    from sale_visitor_ranges as r
    inner join numbered_days as d
        on d.day_no >= r.valid_from
        and d.day_no <= r.valid_to
    cross join bounds as b
    group by r.sale_no * b.day_count + d.day_no
),

co_visit_ranges as (
    select
        j.sale_key + i.neighbour_key + greatest(j.valid_from, i.valid_from) * b.day_count
            + least(j.valid_to, i.valid_to) as range_key,
        count(*) as co_visitors
    from open_spells as j
    inner join spells as i
        on i.user_id = j.user_id
        and i.sale_no <> j.sale_no
        and i.valid_from <= j.valid_to
        and i.valid_to >= j.valid_from
    cross join bounds as b
    group by j.sale_key + i.neighbour_key + greatest(j.valid_from, i.valid_from) * b.day_count
        + least(j.valid_to, i.valid_to)
),

co_visit_pairs as (
    select
        {{ int_div('r.range_key', 'b.day_count * b.day_count') }} as pair_no,
        mod({{ int_div('r.range_key', 'b.day_count') }}, b.day_count) as valid_from,
        mod(r.range_key, b.day_count) as valid_to,
        r.co_visitors
    from co_visit_ranges as r
    cross join bounds as b
),

co_visits as (
    select
        p.pair_no * b.day_count + o.day_no as pair_day,
        cast(sum(p.co_visitors) as bigint) as co_visitors
    from co_visit_pairs as p
    cross join bounds as b
    cross join sale_count as c
    inner join open_days as o
        on o.sale_no = {{ int_div('p.pair_no', 'c.sale_count') }}
        and o.day_no >= p.valid_from
        and o.day_no <= p.valid_to
    group by p.pair_no * b.day_count + o.day_no
    having sum(p.co_visitors) >= {{ var('cf_min_covisits') }}
),

co_visit_days as (
    select
        mod(v.pair_day, b.day_count) as day_no,
        {{ int_div('v.pair_day', 'b.day_count * c.sale_count') }} as sale_no,
        mod({{ int_div('v.pair_day', 'b.day_count') }}, c.sale_count) as neighbour_sale_no,
        v.co_visitors
    from co_visits as v
    cross join bounds as b
    cross join sale_count as c
),

similarities as (
    select
        v.day_no,
        v.sale_no,
        v.neighbour_sale_no,
        v.co_visitors,
        v.co_visitors / sqrt(cast(vj.visitors as double) * vi.visitors) as similarity
    from co_visit_days as v
    cross join bounds as b
    inner join sale_visitors as vj
        on vj.sale_day = v.sale_no * b.day_count + v.day_no
    inner join sale_visitors as vi
        on vi.sale_day = v.neighbour_sale_no * b.day_count + v.day_no
),

-- sale_no follows sale_id, so the smallest neighbour_sale_no breaks ties as the smallest neighbour_sale_id would
ranked as (
    select *
    from {{ ranked_top_n('similarities', ['day_no', 'sale_no'], 'neighbour_sale_no', 'similarity', var('cf_top_k'),
                         carry=['co_visitors', 'similarity'], rank_as='neighbour_rank') }} as top
)

select
    d.scored_for,
    j.sale_id,
    i.sale_id as neighbour_sale_id,
    r.co_visitors,
    r.similarity,
    r.neighbour_rank,
    d.inputs_key
from ranked as r
inner join numbered_days as d
    on d.day_no = r.day_no
inner join sale_numbers as j
    on j.sale_no = r.sale_no
inner join sale_numbers as i
    on i.sale_no = r.neighbour_sale_no
