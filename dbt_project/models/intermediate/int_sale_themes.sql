{{ config(tags=['images']) }}
{#-
  Each sale's theme scores in % under tonight's themes: the mean of its labelled images' scores (a sale's
  scores sum to 100; a sale with no labelled image has no row).
-#}
with images as (
    select i.sale_id, t.image_id, t.theme_id, t.score_pct
    from {{ ref('int_image_themes') }} as t
    inner join {{ ref('stg_sale_images') }} as i
        on i.image_id = t.image_id
),

images_per_sale as (
    select sale_id, count(distinct image_id) as images
    from images
    group by sale_id
)

select
    i.sale_id,
    i.theme_id,
    round(sum(i.score_pct) / n.images, 10) as score_pct,
    n.images as images_with_themes
from images as i
inner join images_per_sale as n
    on n.sale_id = i.sale_id
group by i.sale_id, i.theme_id, n.images
