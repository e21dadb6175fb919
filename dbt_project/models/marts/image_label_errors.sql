{{ config(tags=['images']) }}
{#-
  Public. Every catalogue image that tonight's model could not label, with the reason: a file that cannot be read
  (no_image_root, missing_file, empty_file, unreadable_file) or cannot be decoded (not_an_image, truncated_file,
  decompression_bomb, corrupt_image...). These never stop the run.
-#}
select
    f.image_id,
    s.sale_id,
    f.image_path,
    f.content_hash,
    f.model_version,
    coalesce(f.file_error, i.reason) as reason,
    i.detail
from {{ ref('int_image_files') }} as f
inner join {{ ref('stg_sale_images') }} as s
    on s.image_id = f.image_id
left join {{ ref('int_image_inference') }} as i
    on i.content_hash = f.content_hash
    and i.model_version = f.model_version
where f.file_error is not null
    or i.status = 'failed'
