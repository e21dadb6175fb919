{#- The sales open on each scoring day (opens_on <= scored_for <= closes_on), with their age and time left. -#}
select
    d.scored_for,
    s.sale_id,
    s.price_eur,
    {{ dbt.datediff('s.opens_on', 'd.scored_for', 'day') }} as days_since_open,
    {{ dbt.datediff('d.scored_for', 's.closes_on', 'day') }} as days_left
from {{ ref('int_scoring_days') }} as d
inner join {{ ref('stg_sales') }} as s
    on s.opens_on <= d.scored_for
    and s.closes_on >= d.scored_for
