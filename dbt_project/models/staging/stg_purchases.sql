{#- One row per order (ingest rejects an order_id re-sent with other values; the first row of an order wins). -#}
with ranked as (
    select
        order_id,
        user_id,
        sale_id,
        purchased_at,
        amount_eur,
        _batch_id,
        row_number() over (partition by order_id order by _batch_id, _source_file, _line) as occurrence
    from {{ source('raw', 'purchases') }}
)

select
    order_id,
    user_id,
    sale_id,
    purchased_at,
    cast(purchased_at as date) as purchased_on,
    amount_eur,
    _batch_id as loaded_in_batch
from ranked
where occurrence = 1
