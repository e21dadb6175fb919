{{ config(tags=['images']) }}
{#- Public. Each sale's theme scores in % (sum 100 per sale) under tonight's themes. See int_sale_themes. -#}
select sale_id, theme_id, score_pct, images_with_themes
from {{ ref('int_sale_themes') }}
