{#- Public. The meta model's training set (see int_training_examples): a view, the rows live there. -#}
{{ config(materialized='view') }}
select * from {{ ref('int_training_examples') }}
