{#- Visits counted per customer, sale and day: the unit every "as of" window below reads. -#}
select
    user_id,
    sale_id,
    visited_on,
    count(*) as visits
from {{ ref('stg_visits') }}
group by user_id, sale_id, visited_on
