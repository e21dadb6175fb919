{#-
  Item-item collaborative filtering, as of each scoring day: for every sale j open that day, its neighbours i with
    sim(i, j) = co_visitors(i, j) / sqrt(visitors(i) * visitors(j))
  (cosine over the binary customer x sale matrix of visits in the lookback), keeping pairs with at least
  cf_min_covisits co-visitors and the cf_top_k most similar neighbours of each j.
-#}
with window_sales as (
    select scored_for, user_id, sale_id
    from {{ ref('int_user_window_sales') }}
),

sale_visitors as (
    select scored_for, sale_id, count(*) as visitors
    from window_sales
    group by scored_for, sale_id
),

open_sale_visitors as (
    select w.scored_for, w.user_id, w.sale_id
    from window_sales as w
    inner join {{ ref('int_open_sales') }} as o
        on o.scored_for = w.scored_for
        and o.sale_id = w.sale_id
),

co_visits as (
    select
        j.scored_for,
        j.sale_id,
        i.sale_id as neighbour_sale_id,
        count(*) as co_visitors
    from open_sale_visitors as j
    inner join window_sales as i
        on i.scored_for = j.scored_for
        and i.user_id = j.user_id
        and i.sale_id <> j.sale_id
    group by j.scored_for, j.sale_id, i.sale_id
    having count(*) >= {{ var('cf_min_covisits') }}
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
