{#- One row per image: the latest version; is_hero marks position 1. -#}
with latest as (
    {{ latest_version(source('raw', 'sale_images'), 'image_id', ['image_id', 'sale_id', 'uri', 'position']) }}
)

select
    image_id,
    sale_id,
    uri,
    position as image_position,
    position = 1 as is_hero
from latest
