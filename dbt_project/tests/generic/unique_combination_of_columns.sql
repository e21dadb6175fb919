{#-
  The columns together identify a row: no combination occurs twice (the primary-key test of composite keys).
  except_tonight: only the rows of the days before tonight (a table of scored days whose nightly rows a view of it
  publishes with its own key test, so that each row's key is tested once).
  first_day_only: only the rows of the first scoring day (a view of every pair of every scoring day, which the test
  would otherwise compute in full).
-#}
{% test unique_combination_of_columns(model, combination_of_columns, except_tonight=false, first_day_only=false) %}
{%- if first_day_only %}
{%- set model -%}
(select * from {{ model }}
 where scored_for = (select min(scored_for) from {{ ref('int_scoring_days') }})) as first_day
{%- endset %}
{%- elif except_tonight %}
{%- set model -%}
(select * from {{ model }}
 where scored_for not in (select scored_for from {{ ref('int_scoring_days') }} where is_nightly)) as before_tonight
{%- endset %}
{%- endif %}
{{ duplicate_combinations(model, combination_of_columns) }}
{% endtest %}
