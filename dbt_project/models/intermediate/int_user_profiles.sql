{#-
  Content profile of each scored customer as of each scoring day, in the same long form as int_sale_profiles:
  the profiles of the sales they visited and bought in [scored_for - profile_lookback_days, scored_for), each event
  weighted (a purchase counts purchase_weight visits) and decayed exponentially with a half-life of
  profile_half_life_days, summed per feature, the text family cut to its text_terms_per_user strongest words,
  then L2-normalised within each (customer, family).
-#}
with events as (
    select user_id, sale_id, visited_on as event_on, cast(visits as double) as weight
    from {{ ref('int_daily_visits') }}

    union all

    select user_id, sale_id, purchased_on as event_on, cast({{ var('purchase_weight') }} as double) as weight
    from {{ ref('stg_purchases') }}
),

user_sales as (
    select
        u.scored_for,
        u.user_id,
        e.sale_id,
        sum(
            e.weight * exp(-ln(2.0) * {{ dbt.datediff('e.event_on', 'u.scored_for', 'day') }}
                / {{ var('profile_half_life_days') }})
        ) as weight
    from {{ ref('int_scoring_users') }} as u
    inner join events as e
        on e.user_id = u.user_id
        and e.event_on < u.scored_for
        and e.event_on >= {{ add_days('u.scored_for', -var('profile_lookback_days')) }}
    group by u.scored_for, u.user_id, e.sale_id
),

summed as (
    select
        us.scored_for,
        us.user_id,
        p.family,
        p.feature,
        sum(us.weight * p.value) as weight
    from user_sales as us
    inner join {{ ref('int_sale_profiles') }} as p
        on p.sale_id = us.sale_id
    group by us.scored_for, us.user_id, p.family, p.feature
),

ranked as (
    select
        *,
        row_number() over (
            partition by scored_for, user_id, family
            order by weight desc, feature
        ) as feature_rank
    from summed
)

select
    scored_for,
    user_id,
    family,
    feature,
    weight / sqrt(sum(weight * weight) over (partition by scored_for, user_id, family)) as value
from ranked
where family <> 'text' or feature_rank <= {{ var('text_terms_per_user') }}
