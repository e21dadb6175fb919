{{ config(tags=['images']) }}
{#- Public. Each image's theme scores in % (sum 100 per image) under tonight's themes. See int_image_themes. -#}
select image_id, theme_id, score_pct, fitted_for
from {{ ref('int_image_themes') }}
