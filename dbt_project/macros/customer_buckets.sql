{#-
  Customer buckets. The scoring models aggregate per (customer, sale) pair, and a night has every active customer
  times every open sale: on one machine those aggregations outgrow memory long before the customers outgrow the
  disk. So DuckDB builds them (materialized customer_buckets, set on models/intermediate/scoring in
  dbt_project.yml) one bucket of customers at a time: the model's query runs once per bucket, each run keeping the
  customers whose user_id hashes to that bucket, and the runs' rows make the table. Every customer's rows come from
  exactly one run, so the table is the one a single run over all customers gives.

  A bucketed model says where its customers enter with in_customer_bucket(column), a condition that is true for
  every customer outside a bucketed build (dbt unit tests, dbt show, other engines, which distribute the work
  themselves and build these models as plain tables).

  The number of buckets: the night's scored (day, customer) rows in int_scoring_users over
  scored_customers_per_bucket, at least 1.
-#}
{% macro in_customer_bucket(column) %}
    {{- return(adapter.dispatch('in_customer_bucket', 'vitrine')(column)) -}}
{% endmacro %}

{% macro default__in_customer_bucket(column) -%}
    true
{%- endmacro %}

{#- DuckDB: the bucket is a session variable the materialization sets before each run (unset: every customer). -#}
{% macro duckdb__in_customer_bucket(column) -%}
    (getvariable('vitrine_customer_buckets') is null
        or hash({{ column }}) % getvariable('vitrine_customer_buckets') = getvariable('vitrine_customer_bucket'))
{%- endmacro %}


{#- How many buckets tonight's build uses (see the header). -#}
{% macro customer_bucket_count() %}
    {%- set scored = adapter.get_relation(database=this.database, schema=this.schema,
                                          identifier='int_scoring_users') %}
    {%- if scored is none %}{{ return(1) }}{% endif %}
    {%- set rows = run_query('select count(*) from ' ~ scored).columns[0].values()[0] %}
    {%- set per_bucket = var('scored_customers_per_bucket') | int %}
    {{- return([1, ((rows + per_bucket - 1) // per_bucket) | int] | max) -}}
{% endmacro %}


{#-
  A table built in customer buckets (DuckDB): the first bucket creates the model's table beside the old one, each
  next bucket inserts into it, and the new table replaces the old one in the same transaction, as dbt's table
  materialization does: a build that fails leaves the last good table.
-#}
{% materialization customer_buckets, adapter='duckdb' %}
    {%- if 'vitrine_customer_bucket' not in compiled_code %}
        {{ exceptions.raise_compiler_error(
            model.name ~ " is built in customer buckets but never says where its customers enter: call "
            ~ "in_customer_bucket(<user_id column>) on its customers, or it would repeat every row once per bucket") }}
    {%- endif %}

    {%- set existing_relation = load_cached_relation(this) %}
    {%- set target_relation = this.incorporate(type='table') %}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) %}
    {%- set backup_relation = make_backup_relation(target_relation,
                                                   'table' if existing_relation is none else existing_relation.type) %}
    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set buckets = customer_bucket_count() %}
    {#- the bucket condition hides the inputs' true sizes from DuckDB's join-order estimates, which then pick plans
        that join every customer to every feature before the sales: the models' joins run in their written order #}
    {%- call statement('written_join_order') -%}
        set disabled_optimizers = 'join_order';
    {%- endcall %}
    {%- for bucket in range(buckets) %}
    {%- call statement('set_customer_bucket') -%}
        set variable vitrine_customer_buckets = {{ buckets }};
        set variable vitrine_customer_bucket = {{ bucket }};
    {%- endcall %}
    {%- call statement('main' if loop.last else 'customer_bucket') -%}
        {%- if loop.first %}
        {{ create_table_as(False, intermediate_relation, compiled_code) }}
        {%- else %}
        insert into {{ intermediate_relation }}
        {{ compiled_code }}
        {%- endif %}
    {%- endcall %}
    {%- endfor %}
    {%- call statement('reset_customer_bucket') -%}
        reset variable vitrine_customer_buckets;
        reset variable vitrine_customer_bucket;
        reset disabled_optimizers;
    {%- endcall %}

    {%- if existing_relation is not none %}
    {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {%- endif %}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
