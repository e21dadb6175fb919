{{ config(materialized='incremental', incremental_strategy='append') }}
{#-
  One row per visit (customer, sale, second): the largest table, read by every recommender, so a table, not a view.
  Incremental: a night appends the visits of the ingest batches loaded since the last build (raw is append-only
  and batch ids grow), instead of rebuilding the whole history. Ingest rejects a visit already loaded, so a new
  batch never repeats a key of an earlier one; the group by folds repeats within the new batches, and the unique
  key test fails the night if raw was filled another way (rebuild with --full-refresh).
-#}
select
    user_id,
    sale_id,
    visited_at,
    cast(visited_at as date) as visited_on,
    max(_batch_id) as loaded_in_batch
from {{ source('raw', 'visits') }}
{%- if is_incremental() %}
where _batch_id > (select coalesce(max(loaded_in_batch), 0) from {{ this }})
{%- endif %}
group by user_id, sale_id, visited_at
