{#- The training examples with the meta model's features (var meta_features), as the Python fit reads them. -#}
{{ config(materialized='view') }}
select
    example_on,
    user_id,
    sale_id,
    label,
    amount_eur,
    is_evaluation_day,
    {{ meta_feature_columns() }}
from {{ ref('int_training_examples') }}
