{#-
  One row per image: the latest version; is_hero marks position 1; image_path is where the file is, the image
  root of the ingest batch that delivered this version joined with its uri.
-#}
with latest as (
    {{ latest_version(source('raw', 'sale_images'), 'image_id', ['image_id', 'sale_id', 'uri', 'position', '_batch_id']) }}
)

select
    latest.image_id,
    latest.sale_id,
    latest.uri,
    latest.position as image_position,
    latest.position = 1 as is_hero,
    case
        when batches.images_root is not null
            then {{ dbt.concat(['batches.images_root', "'/'", 'latest.uri']) }}
    end as image_path
from latest
left join {{ source('raw', 'ingest_batches') }} as batches
    on batches.batch_id = latest._batch_id
