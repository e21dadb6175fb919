{#-
  The item-item similarity of collaborative filtering (int_cf_similarity), as a SQL expression of three integer
  columns: co_visitors (customers who visited both sales), visitors_i and visitors_j (customers who visited each).
  `method` is var cf_similarity, `shrinkage` var cf_shrinkage; the model passes them in, so that they are part of
  its inputs_key (macros/as_of_days.sql). A new formula is a new branch here, its name in the error below and in
  dbt_project.yml, and a unit test in _intermediate__unit_tests.yml. Editing a macro changes no inputs_key: rebuild
  int_cf_similarity with --full-refresh after changing a formula.
    cosine          co_visitors / sqrt(visitors_i * visitors_j)
    jaccard         co_visitors / (visitors_i + visitors_j - co_visitors)
    shrunk_cosine   co_visitors / (sqrt(visitors_i * visitors_j) + shrinkage): pairs with few visitors count less
-#}
{% macro cf_similarity(co_visitors, visitors_i, visitors_j, method, shrinkage) -%}
{%- if method == 'cosine' -%}
    {{ co_visitors }} / sqrt(cast({{ visitors_i }} as double) * {{ visitors_j }})
{%- elif method == 'jaccard' -%}
    {{ co_visitors }} / cast({{ visitors_i }} + {{ visitors_j }} - {{ co_visitors }} as double)
{%- elif method == 'shrunk_cosine' -%}
    {%- if shrinkage is not number or shrinkage < 0 -%}
    {{ exceptions.raise_compiler_error("cf_similarity: cf_shrinkage must be a number >= 0, not '" ~ shrinkage ~ "'") }}
    {%- endif %}
    {{ co_visitors }} / (sqrt(cast({{ visitors_i }} as double) * {{ visitors_j }}) + {{ shrinkage }})
{%- else -%}
    {{ exceptions.raise_compiler_error("cf_similarity: unknown similarity '" ~ method
                                       ~ "'; use one of cosine, jaccard, shrunk_cosine") }}
{%- endif -%}
{%- endmacro %}
