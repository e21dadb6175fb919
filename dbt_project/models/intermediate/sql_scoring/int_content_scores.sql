{#-
  Content-based score of each scored customer for each sale open on the day, one per family: the sparse dot
  product of the two L2-normalised profiles (a cosine), computed as a join on the feature. Only non-zero pairs.
-#}
{{ config(enabled=var('scoring_engine') == 'sql') }}
select
    u.scored_for,
    u.user_id,
    s.sale_id,
    u.family,
    sum(u.value * s.value) as score
from {{ ref('int_user_profiles') }} as u
inner join {{ ref('int_sale_profiles') }} as s
    on s.family = u.family
    and s.feature = u.feature
inner join {{ ref('int_open_sales') }} as o
    on o.scored_for = u.scored_for
    and o.sale_id = s.sale_id
group by u.scored_for, u.user_id, s.sale_id, u.family
