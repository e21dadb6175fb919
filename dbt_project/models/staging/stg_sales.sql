{#-
  One row per sale: its latest version, typed, with its length in days; the ingest batch of that version and the
  earliest opening any version gave (int_scoring_days: which days a new version of the sale changes).
-#}
with latest as (
    {{ latest_version(source('raw', 'sales'), 'sale_id', [
        'sale_id', 'title', 'description', 'destination_city', 'destination_country',
        'latitude', 'longitude', 'price_eur', 'opens_on', 'closes_on', '_batch_id']) }}
),

openings as (
    select sale_id, min(opens_on) as earliest_opens_on
    from {{ source('raw', 'sales') }}
    group by sale_id
)

select
    sale_id,
    title,
    description,
    destination_city,
    destination_country,
    latitude,
    longitude,
    price_eur,
    opens_on,
    closes_on,
    {{ dbt.datediff('opens_on', 'closes_on', 'day') }} + 1 as open_days,
    _batch_id as loaded_in_batch,
    earliest_opens_on
from latest
inner join openings
    using (sale_id)
