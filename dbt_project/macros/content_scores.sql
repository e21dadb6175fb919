{#-
  The content-based recommenders' scores, as rows (scored_for, user_id, sale_id, recommender, score) with a score
  above 0: for each content family f (recommender cb_<f>, macros/recommenders.sql), the cosine of the customer's
  profile (int_user_profiles) and the sale's (int_sale_profiles), both L2-normalised, i.e. the dot product
    cb_f(u, j) = sum over the family's features x of profile(u, x) * profile(j, x)
  `pairs`: a relation of (scored_for, user_id, sale_id) to score, or none for every sale open on the day
  (int_open_sales) for every customer with a profile that day.

  The default is a join on the feature: the rows are the products that are not 0, which suits the sparse families
  (a sale has a few words, one city). DuckDB scores the families declared dense (few features, most of them on most
  sales: every product is a row in a join) as the inner product of two fixed-length lists instead, one list per
  (customer, family) and per (sale, family) with a 0 for each missing feature; the sparse families as the default.
-#}
{% macro content_scores(pairs=none) %}
    {{ return(adapter.dispatch('content_scores', 'vitrine')(pairs)) }}
{% endmacro %}

{% macro default__content_scores(pairs) -%}
    {{ vitrine.content_scores_by_join(content_families(), pairs) }}
{%- endmacro %}

{% macro duckdb__content_scores(pairs) -%}
    {%- set sparse = content_families(dense=false) %}
    {%- set dense = content_families(dense=true) %}
    {%- if sparse %}
    {{ vitrine.content_scores_by_join(sparse, pairs) }}
    {%- endif %}
    {%- if sparse and dense %}

    union all

    {% endif %}
    {%- if dense %}
    {{ vitrine.content_scores_by_vectors(dense, pairs) }}
    {%- endif %}
{%- endmacro %}


{#- The families' scores by a join on the feature: one row per product that is not 0, summed per pair. -#}
{% macro content_scores_by_join(families, pairs) -%}
    select
        u.scored_for,
        u.user_id,
        s.sale_id,
        'cb_' || u.family as recommender,
        sum(u.value * s.value) as score
    from {{ ref('int_user_profiles') }} as u
    inner join {{ ref('int_sale_profiles') }} as s
        on s.feature_id = u.feature_id
    {%- if pairs is none %}
    inner join {{ ref('int_open_sales') }} as o
        on o.scored_for = u.scored_for
        and o.sale_id = s.sale_id
    {%- else %}
    inner join {{ pairs }} as o
        on o.scored_for = u.scored_for
        and o.user_id = u.user_id
        and o.sale_id = s.sale_id
    {%- endif %}
    where u.family in ('{{ families | join("', '") }}')
    group by u.scored_for, u.user_id, s.sale_id, u.family
    having sum(u.value * s.value) > 0
{%- endmacro %}


{#-
  DuckDB: the families' scores as list_inner_product of the customer's and the sale's lists of the family's
  features (ordered by feature_id, 0 where missing), for every (customer, open sale) or the given pairs.
-#}
{% macro content_scores_by_vectors(families, pairs) -%}
    select scored_for, user_id, sale_id, 'cb_' || family as recommender, score
    from (
        select
            u.scored_for,
            u.user_id,
            o.sale_id,
            u.family,
            list_inner_product(u.vector, s.vector) as score
        from ({{ vitrine.content_vectors(families) }}) as u
        {%- if pairs is none %}
        inner join {{ ref('int_open_sales') }} as o
            on o.scored_for = u.scored_for
        {%- else %}
        inner join {{ pairs }} as o
            on o.scored_for = u.scored_for
            and o.user_id = u.user_id
        {%- endif %}
        inner join ({{ vitrine.content_vectors(families, of='sales') }}) as s
            on s.sale_id = o.sale_id
            and s.family = u.family
    ) as products
    where score > 0
{%- endmacro %}


{#-
  DuckDB: each profile of `families` as one list of the family's feature values ordered by feature_id, 0 for a
  feature the profile lacks: (scored_for, user_id, family, vector) for the customers' profiles, (sale_id, family,
  vector) for the sales' (of='sales').
-#}
{% macro content_vectors(families, of='customers') -%}
    {%- set keys = ['p.sale_id'] if of == 'sales' else ['p.scored_for', 'p.user_id'] %}
    {%- set profiles = ref('int_sale_profiles') if of == 'sales' else ref('int_user_profiles') %}
    with family_features as (
        select distinct family, feature_id
        from {{ ref('int_sale_profiles') }}
        where family in ('{{ families | join("', '") }}')
    ),

    profiles as (
        select distinct {{ keys | join(', ') }}, p.family
        from {{ profiles }} as p
        where p.family in ('{{ families | join("', '") }}')
    )

    select
        {{ keys | join(', ') }},
        p.family,
        list(coalesce(v.value, 0) order by f.feature_id) as vector
    from profiles as p
    inner join family_features as f
        on f.family = p.family
    left join {{ profiles }} as v
        on {% for key in keys %}v.{{ key[2:] }} = {{ key }} and {% endfor %}v.feature_id = f.feature_id
    group by {{ keys | join(', ') }}, p.family
{%- endmacro %}
