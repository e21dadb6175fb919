{#-
  Engine-specific SQL behind adapter.dispatch, so that the models stay portable (DuckDB by default, Spark for
  scale-out). Each macro has a default (ANSI-ish) implementation and overrides where an engine differs.
-#}

{#- A date `days` days after `expr` (negative: before), typed DATE on every engine. -#}
{% macro add_days(expr, days) %}
    {{ return(adapter.dispatch('add_days', 'vitrine')(expr, days)) }}
{% endmacro %}

{% macro default__add_days(expr, days) -%}
    cast({{ dbt.dateadd('day', days, expr) }} as date)
{%- endmacro %}

{% macro spark__add_days(expr, days) -%}
    date_add({{ expr }}, {{ days }})
{%- endmacro %}


{#- The median of a numeric expression (an aggregate). -#}
{% macro median(expr) %}
    {{ return(adapter.dispatch('median', 'vitrine')(expr)) }}
{% endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro spark__median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}


{#-
  Table function part of a FROM clause that turns each row of `relation` into one row per word of `text_expr`
  (lower-cased, split on anything that is not a letter), keeping the columns `keep`. The words come out as `term`.
-#}
{% macro words_of(relation, text_expr, keep) %}
    {{ return(adapter.dispatch('words_of', 'vitrine')(relation, text_expr, keep)) }}
{% endmacro %}

{% macro default__words_of(relation, text_expr, keep) -%}
    {{ exceptions.raise_compiler_error("words_of: no implementation for " ~ target.type ~ "; add one to macros/portable.sql") }}
{%- endmacro %}

{% macro duckdb__words_of(relation, text_expr, keep) -%}
    (
        select {{ keep | join(', ') }}, unnest(regexp_split_to_array(lower({{ text_expr }}), '[^a-z]+')) as term
        from {{ relation }}
    )
{%- endmacro %}

{% macro spark__words_of(relation, text_expr, keep) -%}
    (
        select {{ keep | join(', ') }}, explode(split(lower({{ text_expr }}), '[^a-z]+')) as term
        from {{ relation }}
    )
{%- endmacro %}


{#-
  A reproducible pseudo-random number in [0, 1) from the given expressions and a seed: a hash, never random(),
  so that a rerun draws the same sample. The same number on every engine (the md5 of the values as text, joined
  by '|', with the seed; its first 48 bits), so that a sample drawn on DuckDB and on Spark is the same sample.
  Only reading hex digits as an integer differs by engine (hex_to_bigint).
-#}
{% macro stable_uniform(exprs, seed) %}
    {{ return(adapter.dispatch('stable_uniform', 'vitrine')(exprs, seed)) }}
{% endmacro %}

{% macro default__stable_uniform(exprs, seed) -%}
    {%- set parts = [] -%}
    {%- for expr in exprs -%}
        {%- do parts.append('cast(' ~ expr ~ ' as ' ~ dbt.type_string() ~ ')') -%}
    {%- endfor -%}
    {%- do parts.append("'" ~ seed ~ "'") -%}
    ({{ vitrine.hex_to_bigint("substr(md5(concat_ws('|', " ~ parts | join(', ') ~ ")), 1, 12)") }} / 281474976710656.0)
{%- endmacro %}

{#- A string of hex digits (at most 15) as a bigint. -#}
{% macro hex_to_bigint(hex_expr) %}
    {{ return(adapter.dispatch('hex_to_bigint', 'vitrine')(hex_expr)) }}
{% endmacro %}

{% macro default__hex_to_bigint(hex_expr) -%}
    {{ exceptions.raise_compiler_error("hex_to_bigint: no implementation for " ~ target.type ~ "; add one to macros/portable.sql") }}
{%- endmacro %}

{% macro duckdb__hex_to_bigint(hex_expr) -%}
    cast('0x' || {{ hex_expr }} as bigint)
{%- endmacro %}

{% macro spark__hex_to_bigint(hex_expr) -%}
    cast(conv({{ hex_expr }}, 16, 10) as bigint)
{%- endmacro %}


{#-
  Subquery for a FROM clause: the `n` rows of each group of `relation` (grouped by the columns `partition_by`) with
  the highest `score`, ties broken by the smallest `key`, as (partition_by..., key, carry...): a row_number()
  window. With `rank_as`, the row's place in its group (1 = the highest) is a column of that name. An engine can
  override it. DuckDB keeps the window: a bounded min_by(struct, row(-score, key), n) aggregate is faster on
  numeric keys, but on the customers' text profiles (a group per customer, text keys) it spilled without bound
  (docs/benchmarks.md).
-#}
{% macro top_n(relation, partition_by, key, score, n, carry=[], rank_as=none) %}
    {{ return(adapter.dispatch('top_n', 'vitrine')(relation, partition_by, key, score, n, carry, rank_as)) }}
{% endmacro %}

{% macro default__top_n(relation, partition_by, key, score, n, carry, rank_as) -%}
    (
        select {{ (partition_by + [key] + carry) | join(', ') }}{{ ', cast(top_n_rank as bigint) as ' ~ rank_as if rank_as }}
        from (
            select
                {{ (partition_by + [key] + carry) | join(', ') }},
                row_number() over (
                    partition by {{ partition_by | join(', ') }} order by {{ score }} desc, {{ key }}
                ) as top_n_rank
            from {{ relation }}
        ) as ranked
        where top_n_rank <= {{ n }}
    )
{%- endmacro %}


{#-
  The rows of a primary-key test: each combination of `columns` that occurs more than once in `relation`, with its
  count. The default groups by the columns. DuckDB first groups by one 64-bit hash of them (a one-column key
  groups faster than several, which matters on tonight's candidate pairs) and then checks the colliding hashes on
  the columns themselves, so the answer is exact.
-#}
{% macro duplicate_combinations(relation, columns) %}
    {{ return(adapter.dispatch('duplicate_combinations', 'vitrine')(relation, columns)) }}
{% endmacro %}

{% macro default__duplicate_combinations(relation, columns) -%}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ relation }}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- endmacro %}

{% macro duckdb__duplicate_combinations(relation, columns) -%}
with repeated_hashes as (
    select hash({{ columns | join(', ') }}) as key_hash
    from {{ relation }}
    group by hash({{ columns | join(', ') }})
    having count(*) > 1
)
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ relation }}
where hash({{ columns | join(', ') }}) in (select key_hash from repeated_hashes)
group by {{ columns | join(', ') }}
having count(*) > 1
{%- endmacro %}


{#-
  An ORDER BY for the end of a CTE whose rows are read next by key, e.g. the input of a self-join on `columns`: it
  changes no result, only speed. DuckDB keeps the order of a CTE it materialises, and a hash join whose build and
  probe rows come grouped by key reads memory in order instead of at random (int_cf_similarity's self-join of the
  visit spells on user_id; docs/benchmarks.md). Elsewhere nothing: an engine may ignore, or reject, an ORDER BY in
  a CTE.
-#}
{% macro order_for_locality(columns) %}
    {{ return(adapter.dispatch('order_for_locality', 'vitrine')(columns)) }}
{% endmacro %}

{% macro default__order_for_locality(columns) -%}
{%- endmacro %}

{% macro duckdb__order_for_locality(columns) -%}
    order by {{ columns | join(', ') }}
{%- endmacro %}


{#-
  Subquery for a FROM clause: the `n` values of the numeric column `key` with the highest `score` in each group of
  `relation` (grouped by `partition_by`), ties broken by the smallest key, as (partition_by..., key, rank_as) with
  rank_as = 1 for the best: by default top_n's row_number() window. DuckDB: one bounded arg_max per group whose
  ordering value is the struct (score, -key), unnested with its positions: the same rows and ranks, and memory bounded
  by n per group where the window sorts every row (one group per customer and recommender).
-#}
{% macro top_n_keys(relation, partition_by, key, score, n, rank_as='rank') %}
    {{ return(adapter.dispatch('top_n_keys', 'vitrine')(relation, partition_by, key, score, n, rank_as)) }}
{% endmacro %}

{% macro default__top_n_keys(relation, partition_by, key, score, n, rank_as) -%}
    {{ vitrine.default__top_n(relation, partition_by, key, score, n, [], rank_as) }}
{%- endmacro %}

{% macro duckdb__top_n_keys(relation, partition_by, key, score, n, rank_as) -%}
    (
        select
            {{ partition_by | join(', ') }},
            unnest(best) as {{ key }},
            generate_subscripts(best, 1) as {{ rank_as }}
        from (
            select
                {{ partition_by | join(', ') }},
                arg_max({{ key }}, struct_pack(score := {{ score }}, negative_key := -{{ key }}), {{ n }}) as best
            from {{ relation }}
            group by {{ partition_by | join(', ') }}
        ) as grouped
    )
{%- endmacro %}


{#-
  Subquery for a FROM clause, like top_n but with the rank: the `n` rows of each group of `relation` (grouped by the
  columns `partition_by`) with the highest `score`, ties broken by the smallest `key`, as
  (partition_by..., key, carry..., rank_as) with rank_as = 1 for the best row: by default top_n's row_number() window.
  `score` must be a number that is never null or NaN. DuckDB: a bounded min_by(struct, row(-score, key), n)
  aggregate per group, its sorted list unnested with its positions (same rows and ranks, faster than the window on
  int_cf_similarity's pairs, a group per sale). Not for a group per customer: with text keys (see top_n), nor with
  numbers (tonight's top 10 per customer spilled without bound; int_home_page_picks uses top_n). Measurements:
  docs/benchmarks.md.
-#}
{% macro ranked_top_n(relation, partition_by, key, score, n, carry=[], rank_as='rank') %}
    {{ return(adapter.dispatch('ranked_top_n', 'vitrine')(relation, partition_by, key, score, n, carry, rank_as)) }}
{% endmacro %}

{% macro default__ranked_top_n(relation, partition_by, key, score, n, carry, rank_as) -%}
    {{ vitrine.default__top_n(relation, partition_by, key, score, n, carry, rank_as) }}
{%- endmacro %}

{% macro duckdb__ranked_top_n(relation, partition_by, key, score, n, carry, rank_as) -%}
    (
        select
            {{ partition_by | join(', ') }},
            unnest(best, recursive := true),
            generate_subscripts(best, 1) as {{ rank_as }}
        from (
            select
                {{ partition_by | join(', ') }},
                min_by(
                    struct_pack({{ ([key] + carry) | join(', ') }}),
                    struct_pack(negative_score := -({{ score }}), tie_break := {{ key }}),
                    {{ n }}
                ) as best
            from {{ relation }}
            group by {{ partition_by | join(', ') }}
        ) as grouped
    )
{%- endmacro %}


{#-
  The values of `measure` in a group, joined by `delimiter_text` in the order of the expression `order_by` (nulls
  left out), at most `limit_num` of them: dbt.listagg with an ORDER BY, which dbt-spark's listagg ignores (it warns
  and joins in whatever order the rows arrived). Spark sorts (order_by, measure) pairs instead.
-#}
{% macro ordered_listagg(measure, delimiter_text, order_by, limit_num=none) %}
    {{ return(adapter.dispatch('ordered_listagg', 'vitrine')(measure, delimiter_text, order_by, limit_num)) }}
{% endmacro %}

{% macro default__ordered_listagg(measure, delimiter_text, order_by, limit_num) -%}
    {{ dbt.listagg(measure, delimiter_text, "order by " ~ order_by, limit_num) }}
{%- endmacro %}

{% macro spark__ordered_listagg(measure, delimiter_text, order_by, limit_num) -%}
    {%- set pairs -%}
        transform(
            array_sort(filter(collect_list(named_struct('k', {{ order_by }}, 'v', {{ measure }})), x -> x.v is not null)),
            x -> x.v
        )
    {%- endset -%}
    array_join({{ 'slice(' ~ pairs ~ ', 1, ' ~ limit_num ~ ')' if limit_num else pairs }}, {{ delimiter_text }})
{%- endmacro %}
