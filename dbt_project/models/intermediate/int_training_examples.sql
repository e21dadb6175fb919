{#-
  The meta model's training set: each purchase of a history day -> label 1; for each purchase,
  negatives_per_purchase sales open that day that the customer did not buy -> label 0, drawn by a seeded hash
  (a rerun draws the same). Features are those of the day's scoring, so they use only events before the day.
-#}
with days as (
    select scored_for, is_evaluation
    from {{ ref('int_scoring_days') }}
    where is_training
),

purchases as (
    select p.purchased_on as scored_for, p.user_id, p.sale_id, sum(p.amount_eur) as amount_eur
    from {{ ref('stg_purchases') }} as p
    inner join days as d
        on d.scored_for = p.purchased_on
    group by p.purchased_on, p.user_id, p.sale_id
),

purchases_per_user as (
    select scored_for, user_id, count(*) as purchases
    from purchases
    group by scored_for, user_id
),

negatives as (
    select scored_for, user_id, sale_id
    from (
        select
            f.scored_for,
            f.user_id,
            f.sale_id,
            n.purchases,
            row_number() over (
                partition by f.scored_for, f.user_id
                order by {{ stable_uniform(['f.user_id', 'f.sale_id', 'f.scored_for'], var('sampling_seed')) }},
                    f.sale_id
            ) as draw
        from {{ ref('int_candidate_features') }} as f
        inner join purchases_per_user as n
            on n.scored_for = f.scored_for and n.user_id = f.user_id
        left join purchases as p
            on p.scored_for = f.scored_for and p.user_id = f.user_id and p.sale_id = f.sale_id
        where p.sale_id is null
    ) as drawn
    where draw <= {{ var('negatives_per_purchase') }} * purchases
),

examples as (
    select scored_for, user_id, sale_id, 1 as label, amount_eur from purchases
    union all
    select scored_for, user_id, sale_id, 0 as label, 0.0 as amount_eur from negatives
)

select
    e.scored_for as example_on,
    e.user_id,
    e.sale_id,
    e.label,
    e.amount_eur,
    d.is_evaluation as is_evaluation_day,
    f.cf_score,
    f.cb_text_score,
    f.cb_destination_score,
    f.cb_price_score,
    f.cb_image_score,
    f.cf_rank,
    f.cb_text_rank,
    f.cb_destination_rank,
    f.cb_price_rank,
    f.cb_image_rank,
    f.popularity_visits,
    f.popularity_rank,
    f.user_sale_visits,
    f.days_since_open,
    f.days_left,
    f.price_eur,
    f.price_ratio
from examples as e
inner join days as d
    on d.scored_for = e.scored_for
inner join {{ ref('int_candidate_features') }} as f
    on f.scored_for = e.scored_for and f.user_id = e.user_id and f.sale_id = e.sale_id
