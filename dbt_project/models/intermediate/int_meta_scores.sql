{#-
  P(purchase) by the meta model for every scored pair (tonight's candidates and the history days' open sales):
    meta_score           the served model: tonight's `full` model, or var meta_model_version (a rollback)
    meta_no_image_score  tonight's model without the image features (meta_image_features), for the evaluation
  (int_meta_served picks the two models.)
  A logistic regression is a weighted sum of standardised features: sigmoid(intercept + sum coef * (x - c) / s),
  computed here with the coefficients of int_meta_fits. Rounded to 10 decimals, like the features.
-#}
{%- set features = var('meta_features').keys() | list %}
with served as (
    select * from {{ ref('int_meta_served') }}
),

coefficients as (
    select
        slot,
        max(model_version) as model_version,
        max(case when term = '(intercept)' then coefficient end) as intercept
        {%- for f in features %},
        coalesce(max(case when term = '{{ f }}' then coefficient / scale end), 0) as {{ f }}__weight,
        coalesce(max(case when term = '{{ f }}' then center end), 0) as {{ f }}__center
        {%- endfor %}
    from served
    group by slot
),

logits as (
    select
        f.scored_for,
        f.user_id,
        f.sale_id,
        f.is_candidate,
        s.model_version,
        s.intercept
        {%- for f in features %} + s.{{ f }}__weight * (f.{{ f }} - s.{{ f }}__center){% endfor %} as served_logit,
        n.intercept
        {%- for f in features %} + n.{{ f }}__weight * (f.{{ f }} - n.{{ f }}__center){% endfor %} as no_image_logit
    from {{ ref('int_meta_features') }} as f
    cross join (select * from coefficients where slot = 'served') as s
    left join (select * from coefficients where slot = 'no_image') as n
        on 1 = 1
)

select
    scored_for,
    user_id,
    sale_id,
    is_candidate,
    model_version,
    round(1.0 / (1.0 + exp(-served_logit)), 10) as meta_score,
    round(1.0 / (1.0 + exp(-no_image_logit)), 10) as meta_no_image_score
from logits
