{#-
  stg_visits is incremental: a build appends the visits of the ingest batches newer than those it holds (raw is
  append-only and written by ingest, whose batch ids grow and which rejects a visit already loaded). A row written
  to raw another way, into a batch already staged, would be skipped: this test compares each batch's raw rows with
  its staged rows, so that such a row fails the night instead of being lost (`--full-refresh` stages it).
  Rows returned (a failure): a batch whose raw and staged visits differ in number.
-#}
with raw_batches as (
    select _batch_id as batch_id, count(*) as raw_visits
    from {{ source('raw', 'visits') }}
    group by _batch_id
),

staged_batches as (
    select loaded_in_batch as batch_id, count(*) as staged_visits
    from {{ ref('stg_visits') }}
    group by loaded_in_batch
)

select coalesce(r.batch_id, s.batch_id) as batch_id, r.raw_visits, s.staged_visits
from raw_batches as r
full outer join staged_batches as s
    on s.batch_id = r.batch_id
where r.raw_visits is distinct from s.staged_visits
