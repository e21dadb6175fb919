{#-
  The scored features, declared once. Every model, YAML list and check that names a recommender's or a signal's
  column reads these macros (int_candidates, int_candidate_features, int_training_examples, recommender_scores,
  int_evaluation_ranks, the explanations); tests/test_scored_features.py checks the lists that cannot read them
  (YAML columns, the meta_features var, seeds/explanation_phrases.csv) against them.

  A recommender scores each (customer, open sale) pair of a scoring day: its column <name>_score is 0 where it has
  nothing to say, its candidates_per_recommender best sales for the customer are candidates, and <name>_rank is a
  sale's place in that list (candidates_per_recommender + 1 outside it).
    name     model_evaluation's recommender, and the prefix of its columns
    source   the model whose `score` column computes it, in rows (scored_for, user_id, sale_id, recommender)
    family   a content recommender's family in int_sale_profiles; dense: scored as lists on DuckDB
  The formulas are in docs/recommenders.md; "add a recommender" there lists what else to touch.
-#}
{% macro scored_recommenders() %}
    {{ return([
        {'name': 'cf', 'source': 'int_cf_scores'},
        {'name': 'cf_recent', 'source': 'int_cf_scores'},
        {'name': 'cb_text', 'source': 'int_content_scores', 'family': 'text'},
        {'name': 'cb_destination', 'source': 'int_content_scores', 'family': 'destination'},
        {'name': 'cb_price', 'source': 'int_content_scores', 'family': 'price', 'dense': true},
        {'name': 'cb_image', 'source': 'int_content_scores', 'family': 'image', 'dense': true},
    ]) }}
{% endmacro %}

{#-
  The content families of int_sale_profiles, each scored as the recommender cb_<family>; dense=true or false: only
  those declared dense (few features, most of them on most sales) or only the others (macros/content_scores.sql).
-#}
{% macro content_families(dense=none) %}
    {%- set families = [] %}
    {%- for r in scored_recommenders() if r.family is defined %}
    {%- if dense is none or (r.dense is defined and r.dense) == dense %}{% do families.append(r.family) %}{% endif %}
    {%- endfor %}
    {{ return(families) }}
{% endmacro %}

{#- The signals: what is known of a (customer, sale) pair besides the recommenders' scores, as columns. -#}
{% macro scored_signals() %}
    {{ return(['popularity_visits', 'popularity_rank', 'user_sale_visits', 'days_since_open', 'days_left',
               'price_eur', 'price_ratio']) }}
{% endmacro %}

{#- Every scored feature column, in table order: the scores, the ranks, the signals. -#}
{% macro scored_feature_columns() %}
    {%- set columns = [] %}
    {%- for r in scored_recommenders() %}{% do columns.append(r.name ~ '_score') %}{% endfor %}
    {%- for r in scored_recommenders() %}{% do columns.append(r.name ~ '_rank') %}{% endfor %}
    {%- do columns.extend(scored_signals()) %}
    {{ return(columns) }}
{% endmacro %}

{#-
  The recommenders that rank on their own, as (name, score, explanation feature): each scored recommender, the
  content families' sum and popularity. The score is an expression over int_candidate_features' columns, and the
  explanation feature is the row of seeds/explanation_phrases that explains a pick ranked by it. model_evaluation
  evaluates each of them beside the meta models, and a night without a meta model serves the best of them
  (int_night_ranker).
-#}
{% macro single_recommenders() %}
    {%- set singles = [] %}
    {%- for r in scored_recommenders() %}
    {%- do singles.append((r.name, r.name ~ '_score', r.name ~ '_score')) %}
    {%- endfor %}
    {%- set content = [] %}
    {%- for family in content_families() %}{% do content.append('cb_' ~ family ~ '_score') %}{% endfor %}
    {%- do singles.append(('content_based', content | join(' + '), '(none)')) %}
    {%- do singles.append(('popularity', 'popularity_visits', 'log_popularity')) %}
    {{ return(singles) }}
{% endmacro %}

{#- The ranker a night falls back on when nothing can be evaluated. -#}
{% macro fallback_recommender() %}{{ return('popularity') }}{% endmacro %}

{#- A data test's condition: every recommender's rank is a place in its top list, or one more (never null). -#}
{% macro ranks_are_top_list_places() -%}
    {%- for r in scored_recommenders() %}
    {{ r.name }}_rank between 1 and {{ var('candidates_per_recommender') + 1 }}{{ ' and' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
