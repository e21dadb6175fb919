{#-
  The coefficient rows of the two models a night scores with, by slot:
    served    tonight's `full` model, or the model var meta_model_version names (a rollback to an earlier night)
    no_image  tonight's model without the image features, scored for the evaluation only
-#}
select f.*, 'served' as slot
from {{ ref('int_meta_fits') }} as f
where
    {% if var('meta_model_version') -%}
    f.model_version = '{{ var("meta_model_version") }}'
    {%- else -%}
    f.variant = 'full'
    and f.trained_for = (select run_date from {{ ref('int_scoring_days') }} where is_nightly)
    {%- endif %}

union all

select f.*, 'no_image' as slot
from {{ ref('int_meta_fits') }} as f
where f.variant = 'no_image'
    and f.trained_for = (select run_date from {{ ref('int_scoring_days') }} where is_nightly)
