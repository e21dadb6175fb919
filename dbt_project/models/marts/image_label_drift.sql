{{ config(tags=['images']) }}
{#-
  Public. Label drift between two model versions of the same label source (two pretrained backbones or weights
  files, or two trained scene heads; the two sources name different classes, so a pair across them says
  nothing): over the image contents both labelled, the share whose top-1 label changed, and the mean overlap of
  their top-5 label sets (0 to 5).
-#}
with labelled as (
    select
        content_hash,
        model_version,
        {{ label_source('model_version') }} as label_source,
        label_1, label_2, label_3, label_4, label_5
    from {{ ref('int_image_inference') }}
    where status = 'labelled'
),

pairs as (
    select
        a.label_source,
        a.model_version as from_model_version,
        b.model_version as to_model_version,
        a.content_hash,
        case when a.label_1 = b.label_1 then 0 else 1 end as top_1_changed,
        {% for k in range(1, 6) -%}
        case when a.label_{{ k }} in (b.label_1, b.label_2, b.label_3, b.label_4, b.label_5) then 1 else 0 end
        {%- if not loop.last %} + {% endif %}
        {%- endfor %} as top_5_overlap
    from labelled as a
    inner join labelled as b
        on b.content_hash = a.content_hash
        and b.model_version <> a.model_version
        and b.label_source = a.label_source
)

select
    label_source,
    from_model_version,
    to_model_version,
    count(*) as images,
    avg(cast(top_1_changed as double)) as top_1_changed_share,
    avg(cast(top_5_overlap as double)) as mean_top_5_overlap
from pairs
group by label_source, from_model_version, to_model_version
