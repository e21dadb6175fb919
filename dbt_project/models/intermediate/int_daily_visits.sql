{#-
  Visits counted per customer, sale and day: the unit every "as of" window below reads.
  Incremental: a night recounts only the (customer, sale, day) that the visits of its new ingest batches touch
  (a late visit updates its day's count) and replaces those rows (delete+insert on the key).
-#}
{{ config(materialized='incremental', incremental_strategy='delete+insert',
          unique_key=['user_id', 'sale_id', 'visited_on'], on_schema_change='append_new_columns') }}
{#- A table built before loaded_in_batch existed is recounted whole once (and gains the column). -#}
{%- set only_touched = is_incremental()
    and 'loaded_in_batch' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}
{%- if only_touched %}
with touched as (
    select distinct user_id, sale_id, visited_on
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
    on t.user_id = v.user_id and t.sale_id = v.sale_id and t.visited_on = v.visited_on
{%- endif %}
group by v.user_id, v.sale_id, v.visited_on
