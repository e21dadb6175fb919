{#-
  Public. Every meta model trained, one row per model version (tonight's and earlier nights'), so that a night can
  be explained and rolled back (var meta_model_version): what it was trained on, the regularisation chosen on the
  validation days, and its validation AUC and log-loss. The coefficients are in meta_model_coefficients.
-#}
select
    model_version,
    max(variant) as variant,
    max(trained_for) as trained_for,
    max(train_from) as train_from,
    max(train_to) as train_to,
    max(validation_from) as validation_from,
    max(validation_to) as validation_to,
    max(examples) as examples,
    max(positives) as positives,
    max(validation_examples) as validation_examples,
    max(regularization_c) as regularization_c,
    max(validation_auc) as validation_auc,
    max(validation_log_loss) as validation_log_loss,
    {{ ordered_listagg("case when term <> '(intercept)' then term end", "','", "term_order") }} as features,
    max(case when term = '(intercept)' then coefficient end) as intercept
from {{ ref('int_meta_fits') }}
group by model_version
