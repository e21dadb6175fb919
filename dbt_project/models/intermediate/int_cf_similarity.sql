{{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
          partition_by=as_of_partition(), pre_hook="{{ prune_stale_days() }}") }}
{#-
  Item-item collaborative filtering, as of each scoring day d: for every sale j open on d, its neighbours i (the
  other sales its visitors visited), with
    visitors(s)        the customers who visited sale s in the lookback [d - cf_lookback_days, d)
    co_visitors(i, j)  the customers who visited both
    similarity(i, j)   var cf_similarity of these counts, cosine by default (CTE similarities)
  keeping the pairs with at least cf_min_covisits co-visitors and the cf_top_k most similar neighbours of each j
  (ties: the smaller neighbour_sale_id first).
  Grain and key: (scored_for, sale_id, neighbour_sale_id).

  Why spells: a customer is in sale s's lookback on the days of one of their spells' validity
  (int_user_sale_spells), so a customer who visited both i and j co-visits them on the intersection of the two
  validities. Each customer's pair is enumerated once for all the scoring days, counted per range of days, and only
  these counts are spread over the scoring days: the same numbers as a self-join of the visits of every day,
  without a per-day copy of the visits.
  Incremental by day (macros/as_of_days.sql): a night computes only the days without rows.
-#}
with days as (
    select scored_for, inputs_key from ({{ days_to_compute() }}) as todo
),

bounds as (
    select min(scored_for) as first_day, max(scored_for) as last_day from days
),

-- every spell valid on some day of this run: its validity [valid_from, valid_to] clipped to the run's days; read
-- next by the self-join on user_id, hence in user_id order
spells as (
    select
        s.user_id,
        s.sale_id,
        greatest({{ add_days('s.first_visited_on', 1) }}, b.first_day) as valid_from,
        least({{ add_days('s.last_visited_on', var('cf_lookback_days')) }}, b.last_day) as valid_to
    from {{ ref('int_user_sale_spells') }} as s
    cross join bounds as b
    where s.first_visited_on < b.last_day
        and s.last_visited_on >= {{ add_days('b.first_day', -var('cf_lookback_days')) }}
    {{ order_for_locality(['s.user_id']) }}
),

-- the sales j: open on a day of this run
open_days as (
    select o.scored_for, o.sale_id
    from {{ ref('int_open_sales') }} as o
    inner join days as d
        on d.scored_for = o.scored_for
),

open_ranges as (
    select sale_id, min(scored_for) as open_from, max(scored_for) as open_to
    from open_days
    group by sale_id
),

-- the spells of the sales j, clipped to the days they are open
open_spells as (
    select
        s.user_id,
        s.sale_id,
        greatest(s.valid_from, o.open_from) as valid_from,
        least(s.valid_to, o.open_to) as valid_to
    from spells as s
    inner join open_ranges as o
        on o.sale_id = s.sale_id
    where s.valid_from <= o.open_to
        and s.valid_to >= o.open_from
),

-- visitors(s) on each day: the spells valid that day
visitor_ranges as (
    select sale_id, valid_from, valid_to, count(*) as visitors
    from spells
    group by sale_id, valid_from, valid_to
),

visitors as (
    select d.scored_for, r.sale_id, cast(sum(r.visitors) as bigint) as visitors
    from visitor_ranges as r
    inner join days as d
        on d.scored_for >= r.valid_from
        and d.scored_for <= r.valid_to
    group by d.scored_for, r.sale_id
),

-- co_visitors(i, j) per range of days: each customer's pair once, valid where both spells are
co_visit_ranges as (
    select
        j.sale_id,
        i.sale_id as neighbour_sale_id,
        greatest(j.valid_from, i.valid_from) as valid_from,
        least(j.valid_to, i.valid_to) as valid_to,
        count(*) as co_visitors
    from open_spells as j
    inner join spells as i
        on i.user_id = j.user_id
        and i.sale_id <> j.sale_id
        and i.valid_from <= j.valid_to
        and i.valid_to >= j.valid_from
    group by j.sale_id, i.sale_id, greatest(j.valid_from, i.valid_from), least(j.valid_to, i.valid_to)
),

-- co_visitors(i, j) on each day j is open, the pairs with fewer than cf_min_covisits left out
co_visits as (
    select o.scored_for, c.sale_id, c.neighbour_sale_id, cast(sum(c.co_visitors) as bigint) as co_visitors
    from co_visit_ranges as c
    inner join open_days as o
        on o.sale_id = c.sale_id
        and o.scored_for >= c.valid_from
        and o.scored_for <= c.valid_to
    group by o.scored_for, c.sale_id, c.neighbour_sale_id
    having sum(c.co_visitors) >= {{ var('cf_min_covisits') }}
),

-- the three counts of each pair on each day
pair_counts as (
    select
        c.scored_for,
        c.sale_id,
        c.neighbour_sale_id,
        c.co_visitors,
        vi.visitors as visitors_i,
        vj.visitors as visitors_j
    from co_visits as c
    inner join visitors as vi
        on vi.scored_for = c.scored_for and vi.sale_id = c.neighbour_sale_id
    inner join visitors as vj
        on vj.scored_for = c.scored_for and vj.sale_id = c.sale_id
),

-- The similarity: var cf_similarity picks the formula of macros/similarity.sql,
--   cosine          co_visitors / sqrt(visitors_i * visitors_j)
--   jaccard         co_visitors / (visitors_i + visitors_j - co_visitors)
--   shrunk_cosine   co_visitors / (sqrt(visitors_i * visitors_j) + cf_shrinkage)
-- (the vars are passed from here so that they are part of the days' inputs_key)
similarities as (
    select
        scored_for,
        sale_id,
        neighbour_sale_id,
        co_visitors,
        {{ cf_similarity('co_visitors', 'visitors_i', 'visitors_j', var('cf_similarity'), var('cf_shrinkage')) }}
            as similarity
    from pair_counts
),

-- the cf_top_k most similar neighbours of each (day, j), ties by the smaller neighbour_sale_id
ranked as (
    select *
    from {{ ranked_top_n('similarities', ['scored_for', 'sale_id'], 'neighbour_sale_id', 'similarity',
                         var('cf_top_k'), carry=['co_visitors', 'similarity'], rank_as='neighbour_rank') }} as top
)

select r.scored_for, r.sale_id, r.neighbour_sale_id, r.co_visitors, r.similarity, r.neighbour_rank, d.inputs_key
from ranked as r
inner join days as d
    on d.scored_for = r.scored_for
