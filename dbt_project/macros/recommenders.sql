{#-
  The recommenders that rank on their own, as (name, score, explanation feature): the score is an expression over
  int_candidate_features' columns, and the explanation feature is the row of seeds/explanation_phrases that explains
  a pick ranked by it. model_evaluation evaluates each of them beside the meta models, and a night without a meta
  model serves the best of them (int_night_ranker).
-#}
{% macro single_recommenders() %}
    {{ return([
        ('cf', 'cf_score', 'cf_score'),
        ('cb_text', 'cb_text_score', 'cb_text_score'),
        ('cb_destination', 'cb_destination_score', 'cb_destination_score'),
        ('cb_price', 'cb_price_score', 'cb_price_score'),
        ('cb_image', 'cb_image_score', 'cb_image_score'),
        ('content_based', 'cb_text_score + cb_destination_score + cb_price_score + cb_image_score', '(none)'),
        ('popularity', 'popularity_visits', 'log_popularity'),
    ]) }}
{% endmacro %}

{#- The ranker a night falls back on when nothing can be evaluated. -#}
{% macro fallback_recommender() %}{{ return('popularity') }}{% endmacro %}
