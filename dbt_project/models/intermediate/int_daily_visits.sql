{#-
  Visits counted per customer, sale and day: the unit every "as of" window below reads.
  Incremental: a night recounts only the (customer, sale, day) that the visits of its new ingest batches touch
  (a late visit updates its day's count) and replaces those rows (delete+insert on the key). Spark's Parquet tables
  take no delete: there the table is partitioned by day, and a night recounts and overwrites the touched days.
-#}
{%- set on_spark = target.type == 'spark' %}
{{ config(materialized='incremental',
          incremental_strategy='insert_overwrite' if on_spark else 'delete+insert',
          partition_by=['visited_on'] if on_spark else none,
          unique_key=['user_id', 'sale_id', 'visited_on'], on_schema_change='append_new_columns') }}
{%- set touched_keys = ['visited_on'] if on_spark else ['user_id', 'sale_id', 'visited_on'] %}
{#- A table built before loaded_in_batch existed is recounted whole once (and gains the column). -#}
{%- set only_touched = is_incremental()
    and 'loaded_in_batch' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}
{%- if only_touched %}
with touched as (
    select distinct {{ touched_keys | join(', ') }}
    from {{ ref('stg_visits') }}
    where loaded_in_batch > (select coalesce(max(loaded_in_batch), 0) from {{ this }})
)
{%- endif %}

select
    v.user_id,
    v.sale_id,
    v.visited_on,
    count(*) as visits,
    max(v.loaded_in_batch) as loaded_in_batch
from {{ ref('stg_visits') }} as v
{%- if only_touched %}
inner join touched as t
    on {% for key in touched_keys %}t.{{ key }} = v.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
{%- endif %}
group by v.user_id, v.sale_id, v.visited_on
