{#-
  Item-item collaborative filtering, as of each scoring day: for every sale j open that day, its neighbours i with
    sim(i, j) = co_visitors(i, j) / sqrt(visitors(i) * visitors(j))
  (cosine over the binary customer x sale matrix of visits in the lookback [d - cf_lookback_days, d)), keeping
  pairs with at least cf_min_covisits co-visitors and the cf_top_k most similar neighbours of each j.

  Without a per-day copy of the matrix: a customer is in sale s's lookback on the days of one of their spells'
  validity (int_user_sale_spells). A customer who visited both i and j co-visits them on the intersection of the
  two validities, so each customer's pair is enumerated once for all the scoring days, counted per (j, i, first
  day, last day), and only these counts are spread over the scoring days. Same numbers as the per-day self-join.
-#}
with days as (
    select scored_for from {{ ref('int_scoring_days') }}
),

bounds as (
    select min(scored_for) as first_day, max(scored_for) as last_day from days
),

-- every spell valid on some scoring day: [valid_from, valid_to] clipped to the scored days
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
),

open_range as (
    select sale_id, min(scored_for) as open_from, max(scored_for) as open_to
    from {{ ref('int_open_sales') }}
    group by sale_id
),

-- spells of the sales open on a scoring day, clipped to the days the sale is open
open_spells as (
    select
        s.user_id,
        s.sale_id,
        greatest(s.valid_from, o.open_from) as valid_from,
        least(s.valid_to, o.open_to) as valid_to
    from spells as s
    inner join open_range as o
        on o.sale_id = s.sale_id
    where s.valid_from <= o.open_to
        and s.valid_to >= o.open_from
),

sale_visitor_ranges as (
    select sale_id, valid_from, valid_to, count(*) as visitors
    from spells
    group by sale_id, valid_from, valid_to
),

sale_visitors as (
    select d.scored_for, r.sale_id, cast(sum(r.visitors) as bigint) as visitors
    from sale_visitor_ranges as r
    inner join days as d
        on d.scored_for >= r.valid_from
        and d.scored_for <= r.valid_to
    group by d.scored_for, r.sale_id
),

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
    group by
        j.sale_id,
        i.sale_id,
        greatest(j.valid_from, i.valid_from),
        least(j.valid_to, i.valid_to)
),

co_visits as (
    select
        o.scored_for,
        c.sale_id,
        c.neighbour_sale_id,
        cast(sum(c.co_visitors) as bigint) as co_visitors
    from co_visit_ranges as c
    inner join {{ ref('int_open_sales') }} as o
        on o.sale_id = c.sale_id
        and o.scored_for >= c.valid_from
        and o.scored_for <= c.valid_to
    group by o.scored_for, c.sale_id, c.neighbour_sale_id
    having sum(c.co_visitors) >= {{ var('cf_min_covisits') }}
),

similarities as (
    select
        c.scored_for,
        c.sale_id,
        c.neighbour_sale_id,
        c.co_visitors,
        c.co_visitors / sqrt(cast(vj.visitors as double) * vi.visitors) as similarity
    from co_visits as c
    inner join sale_visitors as vj
        on vj.scored_for = c.scored_for and vj.sale_id = c.sale_id
    inner join sale_visitors as vi
        on vi.scored_for = c.scored_for and vi.sale_id = c.neighbour_sale_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by scored_for, sale_id
            order by similarity desc, neighbour_sale_id
        ) as neighbour_rank
    from similarities
)

select scored_for, sale_id, neighbour_sale_id, co_visitors, similarity, neighbour_rank
from ranked
where neighbour_rank <= {{ var('cf_top_k') }}
