{#-
  The content profile of each sale open on each scoring day: int_sale_profiles' rows of the sales of int_open_sales,
  one row per (scoring day, sale, feature). The content scores join the customers' profiles to it on (day,
  feature): a join of two tables, which no engine can start from the wrong end (customers x every sale's features).
-#}
select
    o.scored_for,
    p.sale_id,
    p.family,
    p.feature_id,
    p.value
from {{ ref('int_open_sales') }} as o
inner join {{ ref('int_sale_profiles') }} as p
    on p.sale_id = o.sale_id
