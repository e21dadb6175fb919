{{ config(tags=['images']) }}
{#-
  Public. The pooled CNN embedding of each catalogue image, per model version (transfer learning reads these). A
  trained head's rows hold the backbone's embedding it labelled from; is_current marks tonight's backbone version.
-#}
select
    f.image_id,
    i.model_version,
    f.content_hash,
    i.embedding,
    i.model_version = f.model_version as is_current
from {{ ref('int_image_files') }} as f
inner join {{ ref('int_image_inference') }} as i
    on i.content_hash = f.content_hash
where i.status = 'labelled'
