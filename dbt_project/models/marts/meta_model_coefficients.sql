{#-
  Public. The terms of every meta model: for each feature its standardisation (center, scale) and coefficient on
  the standardised value; the intercept as term (intercept). score = sigmoid(intercept + sum coef * (x - center)
  / scale).
-#}
select model_version, variant, trained_for, term_order, term, center, scale, coefficient
from {{ ref('int_meta_fits') }}
