{#- One row per sale: its latest version, typed, with its length in days. -#}
with latest as (
    {{ latest_version(source('raw', 'sales'), 'sale_id', [
        'sale_id', 'title', 'description', 'destination_city', 'destination_country',
        'latitude', 'longitude', 'price_eur', 'opens_on', 'closes_on']) }}
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
    {{ dbt.datediff('opens_on', 'closes_on', 'day') }} + 1 as open_days
from latest
