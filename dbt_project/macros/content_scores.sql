{#-
  The content-based recommenders' scores: for each content family f (recommender cb_<f>, macros/recommenders.sql),
  the cosine of the customer's profile (int_user_profiles) and the sale's (int_sale_profiles; int_open_sale_profiles
  on each day), both L2-normalised, i.e. the dot product
    cb_f(u, j) = sum over the family's features x of profile(u, x) * profile(j, x)
  Two forms of the same formula:
    content_scores()               every sale open on the day (int_open_sales) for every customer with a profile
                                   that day, as rows (scored_for, user_id, sale_id, recommender, score), score > 0:
                                   what each family's top list reads (int_content_scores)
    content_score_columns(pairs)   the given (scored_for, user_id, sale_id) pairs only, one row per pair with a
                                   column cb_<f>_score per family (null or no row where nothing is shared: 0)

  content_scores() by default is a join on the feature: the rows are the products that are not 0, which suits the
  sparse families (a sale has a few words, one city). DuckDB scores the families declared dense (few features, most
  of them on most sales: every product is a row in a join) as the inner product of two fixed-length lists instead,
  one list per (customer, family) and per (sale, family) with a 0 for each missing feature; the sparse families as
  the default.
-#}
{% macro content_scores() %}
    {{ return(adapter.dispatch('content_scores', 'vitrine')()) }}
{% endmacro %}

{% macro default__content_scores() -%}
    {%- for family in content_families() %}
    {{ 'union all' if not loop.first }}
    {{ vitrine.content_scores_by_join(family) }}
    {% endfor %}
{%- endmacro %}

{% macro duckdb__content_scores() -%}
    {%- set dense = content_families(dense=true) %}
    {%- for family in content_families() %}
    {{ 'union all' if not loop.first }}
    {{ vitrine.content_scores_by_vectors(family) if family in dense else vitrine.content_scores_by_join(family) }}
    {% endfor %}
{%- endmacro %}


{#-
  The pairs' scores as columns: each pair joined to its sale's features that day first (a sale has few), then to
  the customer's weight of each of them, and the products summed per family. The pairs are those of tonight's
  bucket of customers (macros/customer_buckets.sql), and so are the profiles read.
-#}
{% macro content_score_columns(pairs) -%}
    select
        o.scored_for,
        o.user_id,
        o.sale_id
        {%- for family in content_families() %},
        sum(case when s.family = '{{ family }}' then u.value * s.value else 0 end) as cb_{{ family }}_score
        {%- endfor %}
    from {{ pairs }} as o
    inner join {{ ref('int_open_sale_profiles') }} as s
        on s.scored_for = o.scored_for
        and s.sale_id = o.sale_id
    inner join (
        select scored_for, user_id, feature_id, value
        from {{ ref('int_user_profiles') }}
        where {{ in_customer_bucket('user_id') }}
    ) as u
        on u.scored_for = o.scored_for
        and u.user_id = o.user_id
        and u.feature_id = s.feature_id
    group by o.scored_for, o.user_id, o.sale_id
{%- endmacro %}


{#-
  One family's scores by a join on the feature: one row per product that is not 0, summed per pair. A union branch
  per family, so that a reader of one recommender (int_recommender_ranks) computes that family only; the customers
  of tonight's bucket only (macros/customer_buckets.sql).
-#}
{% macro content_scores_by_join(family) -%}
    select
        u.scored_for,
        u.user_id,
        s.sale_id,
        'cb_{{ family }}' as recommender,
        sum(u.value * s.value) as score
    from {{ ref('int_user_profiles') }} as u
    inner join {{ ref('int_open_sale_profiles') }} as s
        on s.scored_for = u.scored_for
        and s.feature_id = u.feature_id
    where u.family = '{{ family }}' and {{ in_customer_bucket('u.user_id') }}
    group by u.scored_for, u.user_id, s.sale_id
    having sum(u.value * s.value) > 0
{%- endmacro %}


{#-
  DuckDB: one family's scores as list_inner_product of the customer's and the sale's lists of the family's features
  (ordered by feature_id, 0 where missing), for every (customer of tonight's bucket, open sale).
-#}
{% macro content_scores_by_vectors(family) -%}
    select scored_for, user_id, sale_id, 'cb_{{ family }}' as recommender, score
    from (
        select
            u.scored_for,
            u.user_id,
            o.sale_id,
            list_inner_product(u.vector, s.vector) as score
        from ({{ vitrine.content_vectors(family) }}) as u
        inner join {{ ref('int_open_sales') }} as o
            on o.scored_for = u.scored_for
        inner join ({{ vitrine.content_vectors(family, of='sales') }}) as s
            on s.sale_id = o.sale_id
    ) as products
    where score > 0
{%- endmacro %}


{#-
  DuckDB: each profile in `family` as one list of the family's feature values ordered by feature_id, 0 for a feature
  the profile lacks: (scored_for, user_id, vector) for the customers' profiles (tonight's bucket), (sale_id, vector)
  for the sales' (of='sales').
-#}
{% macro content_vectors(family, of='customers') -%}
    {%- set keys = ['sale_id'] if of == 'sales' else ['scored_for', 'user_id'] %}
    with family_features as (
        select distinct feature_id
        from {{ ref('int_sale_profiles') }}
        where family = '{{ family }}'
    ),

    family_profiles as (
        {%- if of == 'sales' %}
        select sale_id, feature_id, value
        from {{ ref('int_sale_profiles') }}
        where family = '{{ family }}'
        {%- else %}
        select scored_for, user_id, feature_id, value
        from {{ ref('int_user_profiles') }}
        where family = '{{ family }}' and {{ in_customer_bucket('user_id') }}
        {%- endif %}
    ),

    profiles as (
        select distinct {{ keys | join(', ') }}
        from family_profiles
    )

    select
        {%- for key in keys %}
        p.{{ key }},
        {%- endfor %}
        list(coalesce(v.value, 0) order by f.feature_id) as vector
    from profiles as p
    cross join family_features as f
    left join family_profiles as v
        on {% for key in keys %}v.{{ key }} = p.{{ key }} and {% endfor %}v.feature_id = f.feature_id
    group by {% for key in keys %}p.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
{%- endmacro %}
