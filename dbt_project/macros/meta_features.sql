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

{#-
  The models tonight scores with (int_meta_served), one row per slot (served, no_image): the model version, the
  intercept, and per feature its weight (coefficient / scale) and center, as columns <feature>__weight and
  <feature>__center (0 for a feature the model does not use). A select statement, for a CTE.
-#}
{% macro meta_model_weights() -%}
    select
        slot,
        max(model_version) as model_version,
        max(case when term = '(intercept)' then coefficient end) as intercept
        {%- for f in var('meta_features').keys() %},
        coalesce(max(case when term = '{{ f }}' then coefficient / scale end), 0) as {{ f }}__weight,
        coalesce(max(case when term = '{{ f }}' then center end), 0) as {{ f }}__center
        {%- endfor %}
    from {{ ref('int_meta_served') }}
    group by slot
{%- endmacro %}

{#-
  A logistic regression's logit: the intercept plus the weighted standardised features,
  intercept + sum weight * (x - center), with `features` a relation alias holding the columns meta_feature_columns()
  names and `weights` one row of meta_model_weights().
-#}
{% macro meta_logit(features, weights) -%}
    {{ weights }}.intercept
    {%- for f in var('meta_features').keys() %}
        + {{ weights }}.{{ f }}__weight * ({{ features }}.{{ f }} - {{ weights }}.{{ f }}__center)
    {%- endfor %}
{%- endmacro %}

{#- P(purchase) from a logit, rounded to 10 decimals like the features. -#}
{% macro meta_probability(logit) -%}
    round(1.0 / (1.0 + exp(-({{ logit }}))), 10)
{%- endmacro %}
