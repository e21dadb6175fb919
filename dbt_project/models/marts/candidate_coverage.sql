{#-
  How much of what customers bought tonight's candidate rule would have kept (public monitoring): on each evaluation
  day (where every open sale of a buyer is scored), the share of the buyers' purchases that were candidates
  (recall), and how many candidates a customer gets.
-#}
with buyer_pairs as (
    select f.scored_for, f.user_id, f.sale_id, f.is_candidate
    from {{ ref('int_candidate_features') }} as f
    inner join {{ ref('int_scoring_users') }} as u
        on u.scored_for = f.scored_for and u.user_id = f.user_id
    inner join {{ ref('int_scoring_days') }} as d
        on d.scored_for = f.scored_for
    where u.is_buyer and d.is_evaluation
),

purchases as (
    select distinct purchased_on as scored_for, user_id, sale_id
    from {{ ref('stg_purchases') }}
)

select
    b.scored_for as evaluated_on,
    count(distinct b.user_id) as buyers,
    cast(sum(case when p.sale_id is not null then 1 else 0 end) as bigint) as purchases,
    cast(sum(case when p.sale_id is not null and b.is_candidate then 1 else 0 end) as bigint) as purchases_in_candidates,
    cast(sum(case when p.sale_id is not null and b.is_candidate then 1 else 0 end) as double)
        / nullif(sum(case when p.sale_id is not null then 1 else 0 end), 0) as candidate_recall,
    cast(sum(case when b.is_candidate then 1 else 0 end) as double) / count(distinct b.user_id)
        as candidates_per_buyer,
    cast(count(*) as double) / count(distinct b.user_id) as open_sales_per_buyer
from buyer_pairs as b
left join purchases as p
    on p.scored_for = b.scored_for and p.user_id = b.user_id and p.sale_id = b.sale_id
group by b.scored_for
