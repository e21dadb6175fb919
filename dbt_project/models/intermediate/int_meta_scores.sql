{#-
  P(purchase) by the meta models for the evaluation days' scored pairs, what int_evaluation_ranks ranks:
    meta_score           the served model: tonight's `full` model, or var meta_model_version (a rollback)
    meta_no_image_score  tonight's model without the image features (meta_image_features)
  (int_meta_served picks the two models; a night without a model keeps its pairs, with null scores, for the
  single recommenders' evaluation.) A logistic regression is a weighted sum of standardised features:
  sigmoid(intercept + sum coef * (x - c) / s), rounded to 10 decimals, like the features.
  Tonight's candidates are scored by the same macros where they are ranked (int_home_page_picks), not here: a
  table of every candidate's score would be written and tested on the night's critical path for nothing.
-#}
with weights as (
    {{ meta_model_weights() }}
),

features as (
    select
        scored_for,
        user_id,
        sale_id,
        is_candidate,
        {{ meta_feature_columns() }}
    from {{ ref('int_candidate_features') }}
    where scored_for in (select scored_for from {{ ref('int_scoring_days') }} where is_evaluation)
)

select
    f.scored_for,
    f.user_id,
    f.sale_id,
    f.is_candidate,
    s.model_version,
    {{ meta_probability(meta_logit('f', 's')) }} as meta_score,
    {{ meta_probability(meta_logit('f', 'n')) }} as meta_no_image_score
from features as f
left join (select * from weights where slot = 'served') as s
    on 1 = 1
left join (select * from weights where slot = 'no_image') as n
    on 1 = 1
