{{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
          partition_by=as_of_partition(), pre_hook="{{ prune_stale_days() }}") }}
{#-
  The meta model's training pairs, drawn before anything is scored: each purchase of a training day -> label 1;
  for each purchase, negatives_per_purchase sales the customer could have been offered that day and did not buy ->
  label 0, drawn by a seeded hash (a rerun draws the same). "Could have been offered" is what the scorers pair a
  customer with on a history day: a sale open that day (int_open_sales, with its int_sale_popularity row), not
  bought before the day.
  Drawn first, so that on the training days that are not evaluation days int_candidate_features scores only these
  pairs instead of every open sale of every buyer (a small fraction of those rows).
  Incremental by day (macros/as_of_days.sql): a night computes only the days without rows (tonight, yesterday,
  a day whose role or inputs changed).
-#}
with days as (
    select scored_for, inputs_key
    from ({{ days_to_compute() }}) as todo
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

bought_before as (
    {{ bought_before('purchases_per_user') }}
),

offered as (
    -- the buyer's pairs of the day, as the scorers make them, less the day's purchases
    select n.scored_for, n.user_id, o.sale_id, n.purchases
    from purchases_per_user as n
    inner join {{ ref('int_open_sales') }} as o
        on o.scored_for = n.scored_for
    inner join {{ ref('int_sale_popularity') }} as s
        on s.scored_for = o.scored_for and s.sale_id = o.sale_id
    left join bought_before as b
        on b.scored_for = n.scored_for and b.user_id = n.user_id and b.sale_id = o.sale_id
    left join purchases as p
        on p.scored_for = n.scored_for and p.user_id = n.user_id and p.sale_id = o.sale_id
    where b.sale_id is null and p.sale_id is null
),

negatives as (
    select scored_for, user_id, sale_id
    from (
        select
            scored_for,
            user_id,
            sale_id,
            purchases,
            row_number() over (
                partition by scored_for, user_id
                order by {{ stable_uniform(['user_id', 'sale_id', 'scored_for'], var('sampling_seed')) }}, sale_id
            ) as draw
        from offered
    ) as drawn
    where draw <= {{ var('negatives_per_purchase') }} * purchases
)

select p.scored_for, p.user_id, p.sale_id, 1 as label, p.amount_eur, d.inputs_key
from purchases as p
inner join days as d on d.scored_for = p.scored_for
union all
select n.scored_for, n.user_id, n.sale_id, 0 as label, 0.0 as amount_eur, d.inputs_key
from negatives as n
inner join days as d on d.scored_for = n.scored_for
