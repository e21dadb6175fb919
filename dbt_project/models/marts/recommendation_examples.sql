{#-
  Public. The talk's results view: for example_users active customers (a seeded draw among those who visited at
  least 3 sales in the lookback), side by side, their last visited sales and tonight's top 10 by collaborative
  filtering alone (cf), by the image themes alone (cb_image) and by the meta model (meta, = home_page_rankings).
-#}
with night as (
    select scored_for from {{ ref('int_scoring_days') }} where is_nightly
),

eligible as (
    select w.scored_for, w.user_id
    from {{ ref('int_user_window_sales') }} as w
    inner join night as n
        on n.scored_for = w.scored_for
    group by w.scored_for, w.user_id
    having count(*) >= 3
),

drawn as (
    select scored_for, user_id
    from (
        select
            e.scored_for,
            e.user_id,
            row_number() over (
                order by {{ stable_uniform(['e.user_id'], var('sampling_seed')) }}, e.user_id
            ) as draw
        from eligible as e
        inner join (select distinct scored_for, user_id from {{ ref('home_page_rankings') }}) as h
            on h.scored_for = e.scored_for and h.user_id = e.user_id
    ) as ordered
    where draw <= {{ var('example_users') }}
),

visited as (
    select scored_for, user_id, sale_id, visits as score, rank
    from (
        select
            w.scored_for, w.user_id, w.sale_id, w.visits,
            row_number() over (
                partition by w.scored_for, w.user_id order by w.last_visited_on desc, w.visits desc, w.sale_id
            ) as rank
        from {{ ref('int_user_window_sales') }} as w
        inner join drawn as d
            on d.scored_for = w.scored_for and d.user_id = w.user_id
    ) as ordered
    where rank <= 10
),

{% for list, column in [('cf', 'cf_score'), ('cb_image', 'cb_image_score')] %}
{{ list }}_top as (
    select scored_for, user_id, sale_id, score, rank
    from (
        select
            r.scored_for, r.user_id, r.sale_id, r.{{ column }} as score,
            row_number() over (partition by r.scored_for, r.user_id order by r.{{ column }} desc, r.sale_id) as rank
        from {{ ref('recommender_scores') }} as r
        inner join drawn as d
            on d.scored_for = r.scored_for and d.user_id = r.user_id
        where r.{{ column }} > 0
    ) as ordered
    where rank <= 10
),
{% endfor %}

meta_top as (
    select h.scored_for, h.user_id, h.sale_id, h.score, h.rank
    from {{ ref('home_page_rankings') }} as h
    inner join drawn as d
        on d.scored_for = h.scored_for and d.user_id = h.user_id
),

lists as (
    select 'visited' as list, v.* from visited as v
    union all
    select 'cf' as list, c.* from cf_top as c
    union all
    select 'cb_image' as list, i.* from cb_image_top as i
    union all
    select 'meta' as list, m.* from meta_top as m
)

select
    l.scored_for,
    l.user_id,
    l.list,
    cast(l.rank as bigint) as rank,
    l.sale_id,
    cast(l.score as double) as score,
    s.title,
    s.destination_country,
    s.price_eur,
    i.image_id as hero_image_id,
    i.image_path as hero_image_path
from lists as l
inner join {{ ref('stg_sales') }} as s
    on s.sale_id = l.sale_id
left join {{ ref('stg_sale_images') }} as i
    on i.sale_id = l.sale_id and i.is_hero
