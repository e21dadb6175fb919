{{ config(tags=['images']) }}
{#-
  The top 5 labels of each catalogue image with their probabilities, for every model version that labelled
  the image's current content, with its label source (the backbone's pretrained classifier, or a trained scene
  head). is_current marks tonight's version of each source; is_tag marks tonight's tags, the labels the themes
  and tag_attractiveness read: the scene head's when image_head is set, else the pretrained ones.
-#}
with files as (
    select
        image_id,
        content_hash,
        model_version as pretrained_model_version,
        head_model_version,
        case when head_model_version is null then 'pretrained' else 'scene_head' end as tag_source
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
    select
        content_hash,
        model_version,
        {{ label_source('model_version') }} as label_source,
        {{ k }} as label_rank,
        label_{{ k }} as label,
        probability_{{ k }} as probability
    from inference
    where label_{{ k }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

labels as (
    select
        f.image_id,
        r.model_version,
        r.label_source,
        r.label_rank as rank,
        r.label,
        r.probability,
        f.content_hash,
        case
            when r.model_version = f.pretrained_model_version then true
            when r.model_version = f.head_model_version then true
            else false
        end as is_current,
        f.tag_source
    from files as f
    inner join ranked as r
        on r.content_hash = f.content_hash
)

select
    image_id,
    model_version,
    label_source,
    rank,
    label,
    probability,
    content_hash,
    is_current,
    is_current and label_source = tag_source as is_tag
from labels
