{#- The columns together identify a row: no combination occurs twice (the primary-key test of composite keys). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{{ duplicate_combinations(model, combination_of_columns) }}
{% endtest %}
