{{ config(materialized='table') }}
{#-
  One row per visit (customer, sale, second). Ingest already rejects exact duplicates; the group by keeps the model
  correct if raw was filled another way. A table, not a view: every recommender reads it (20 M rows at scale).
-#}
select
    user_id,
    sale_id,
    visited_at,
    cast(visited_at as date) as visited_on,
    max(_batch_id) as loaded_in_batch
from {{ source('raw', 'visits') }}
group by user_id, sale_id, visited_at
