{{ config(tags=['images']) }}
{#-
  The top 5 labels of each catalogue image with their probabilities, for every model version that labelled
  the image's current content (tonight's version always among them once labelled); is_current marks tonight's.
-#}
with files as (
    select image_id, content_hash, model_version as current_model_version
    from {{ ref('int_image_files') }}
    where content_hash is not null
),

inference as (
    select *
    from {{ ref('int_image_inference') }}
    where status = 'labelled'
),

ranked as (
    {% for k in range(1, 6) %}
    select content_hash, model_version, {{ k }} as label_rank, label_{{ k }} as label, probability_{{ k }} as probability
    from inference
    where label_{{ k }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    f.image_id,
    r.model_version,
    r.label_rank as rank,
    r.label,
    r.probability,
    f.content_hash,
    r.model_version = f.current_model_version as is_current
from files as f
inner join ranked as r
    on r.content_hash = f.content_hash
