{#-
  The meta model's features as select-list items: `expression as name` for each entry of var('meta_features'),
  computed over a relation with int_candidate_features' columns. The one definition the training set and the
  scoring share.
-#}
{% macro meta_feature_columns() -%}
    {%- for name, expression in var('meta_features').items() %}
    cast({{ expression }} as double) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
