{{ config(tags=['images']) }}
{#-
  Public. What customers look at, by month and destination country (and `all` countries): for each tag of the
  sales' hero photos (kind tag: in the hero image's top 5 tags, the scene head's labels when image_head is set,
  else the pretrained ones; see int_image_labels.is_tag) and each theme (kind theme: the sale's theme scores as
  weights),
    visits_share    the share of the month's visits that went to sales with it
    sales_share     the share of the sales open in the month that have it
    attractiveness  visits_share / sales_share - 1 (> 0: customers visit it more than the catalogue shows it)
  visits and sales (the counts behind the shares) let a BI tool hide thin cells.
-#}
with sales as (
    select sale_id, destination_country, opens_on, closes_on from {{ ref('stg_sales') }}
    union all
    select sale_id, 'all' as destination_country, opens_on, closes_on from {{ ref('stg_sales') }}
),

sale_marks as (
    select i.sale_id, 'tag' as kind, l.label as name, 1.0 as weight
    from {{ ref('stg_sale_images') }} as i
    inner join {{ ref('int_image_labels') }} as l
        on l.image_id = i.image_id
    where i.is_hero and l.is_tag

    union all

    select t.sale_id, 'theme' as kind, f.theme_name as name, t.score_pct / 100.0 as weight
    from {{ ref('int_sale_themes') }} as t
    inner join (select theme_id, name as theme_name from {{ ref('theme_catalog') }}) as f
        on f.theme_id = t.theme_id
),

monthly_visits as (
    select {{ dbt.date_trunc('month', 'v.visited_on') }} as month, s.destination_country, v.sale_id, sum(v.visits) as visits
    from {{ ref('int_daily_visits') }} as v
    inner join sales as s
        on s.sale_id = v.sale_id
    group by {{ dbt.date_trunc('month', 'v.visited_on') }}, s.destination_country, v.sale_id
),

months as (
    select distinct month from monthly_visits
),

open_in_month as (
    select m.month, s.destination_country, s.sale_id
    from months as m
    inner join sales as s
        on s.opens_on < {{ dbt.dateadd('month', 1, 'm.month') }}
        and s.closes_on >= m.month
),

totals as (
    select o.month, o.destination_country, count(*) as sales, cast(coalesce(sum(v.visits), 0) as bigint) as visits
    from open_in_month as o
    left join monthly_visits as v
        on v.month = o.month and v.destination_country = o.destination_country and v.sale_id = o.sale_id
    group by o.month, o.destination_country
),

marked as (
    select
        o.month, o.destination_country, k.kind, k.name,
        sum(k.weight) as sales_with,
        sum(k.weight * coalesce(v.visits, 0)) as visits_with
    from open_in_month as o
    inner join sale_marks as k
        on k.sale_id = o.sale_id
    left join monthly_visits as v
        on v.month = o.month and v.destination_country = o.destination_country and v.sale_id = o.sale_id
    group by o.month, o.destination_country, k.kind, k.name
)

select
    cast(m.month as date) as month,
    m.destination_country,
    m.kind,
    m.name,
    t.visits,
    t.sales,
    round(m.visits_with / t.visits, 10) as visits_share,
    round(m.sales_with / t.sales, 10) as sales_share,
    round((m.visits_with / t.visits) / (m.sales_with / t.sales) - 1, 10) as attractiveness
from marked as m
inner join totals as t
    on t.month = m.month and t.destination_country = m.destination_country
where t.visits > 0 and m.sales_with > 0
