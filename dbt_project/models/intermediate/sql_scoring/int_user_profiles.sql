{#-
  Content profile of each scored customer as of each scoring day, in the same long form as int_sale_profiles:
  the sales' profiles weighted by the customer's decayed weight of each sale (int_user_sale_weights), summed per
  feature (text: only the sales whose weight is at least profile_min_weight, i.e. not a single visit older than
  about 3 half-lives: most of the rows, little of the weight), the text family cut to its text_terms_per_user
  strongest words, then L2-normalised within each (customer, family).
  The SQL scoring engine (scoring_engine: sql); the matrix engine computes the same profiles as sparse products.
-#}
{{ config(enabled=var('scoring_engine') == 'sql') }}
with user_sales as (
    select * from {{ ref('int_user_sale_weights') }}
),

-- the text family: summed per word, cut to the customer's text_terms_per_user strongest words
text_summed as (
    select
        us.scored_for,
        us.user_id,
        p.feature,
        sum(us.weight * p.value) as weight
    from user_sales as us
    inner join {{ ref('int_sale_profiles') }} as p
        on p.sale_id = us.sale_id
    where p.family = 'text'
        -- a sale whose decayed weight is below profile_min_weight (one visit long ago) barely moves the words
        and us.weight >= {{ var('profile_min_weight') }}
    group by us.scored_for, us.user_id, p.feature
),

-- the text words kept, and the small families (destination, price, image) summed per feature, all kept
kept as (
    select scored_for, user_id, 'text' as family, feature, weight
    from {{ top_n('text_summed', ['scored_for', 'user_id'], 'feature', 'weight', var('text_terms_per_user'),
                  carry=['weight']) }} as top

    union all

    select us.scored_for, us.user_id, p.family, p.feature, sum(us.weight * p.value) as weight
    from user_sales as us
    inner join {{ ref('int_sale_profiles') }} as p
        on p.sale_id = us.sale_id
    where p.family <> 'text'
    group by us.scored_for, us.user_id, p.family, p.feature
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
    k.feature,
    k.weight / n.norm as value
from kept as k
inner join norms as n
    on n.scored_for = k.scored_for and n.user_id = k.user_id and n.family = k.family
