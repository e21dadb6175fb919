{#-
  The content profile of each scored customer as of each scoring day, in the long form of int_sale_profiles: one
  row per (scoring day, customer, family, feature_id). Per family, the sales' profiles weighted by the customer's
  decayed weight of each sale (int_user_sale_weights) and summed per feature; the text family only from the sales
  whose weight is at least profile_min_weight (one visit long ago moves the words little) and cut to the customer's
  text_terms_per_user strongest words (ties: the smaller feature_id); then L2-normalised within (customer, family),
  so that the dot product with a sale's profile is a cosine.
-#}
with user_sales as (
    select scored_for, user_id, sale_id, weight
    from {{ ref('int_user_sale_weights') }}
    where {{ in_customer_bucket('user_id') }}
),

summed as (
    select
        us.scored_for,
        us.user_id,
        p.family,
        p.feature_id,
        sum(us.weight * p.value) as weight
    from user_sales as us
    inner join {{ ref('int_sale_profiles') }} as p
        on p.sale_id = us.sale_id
    where p.family <> 'text' or us.weight >= {{ var('profile_min_weight') }}
    group by us.scored_for, us.user_id, p.family, p.feature_id
),

text_summed as (
    select scored_for, user_id, feature_id, weight
    from summed
    where family = 'text'
),

kept as (
    select scored_for, user_id, 'text' as family, feature_id, weight
    from {{ top_n('text_summed', ['scored_for', 'user_id'], 'feature_id', 'weight', var('text_terms_per_user'),
                  carry=['weight']) }} as top

    union all

    select scored_for, user_id, family, feature_id, weight
    from summed
    where family <> 'text'
),

norms as (
    select scored_for, user_id, family, sqrt(sum(weight * weight)) as norm
    from kept
    group by scored_for, user_id, family
)

select
    k.scored_for,
    k.user_id,
    k.family,
    k.feature_id,
    k.weight / n.norm as value
from kept as k
inner join norms as n
    on n.scored_for = k.scored_for and n.user_id = k.user_id and n.family = k.family
where n.norm > 0
