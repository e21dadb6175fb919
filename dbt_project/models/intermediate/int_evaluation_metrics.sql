{#-
  Offline evaluation by time, what model_evaluation publishes and int_night_ranker chooses from: on each evaluation
  day each recommender alone ranks every open sale for each customer, compared with what the customer did that day.
    target = purchases: the day's buyers; relevant = the sales they bought.
    target = visits:    a seeded sample of the day's visitors; relevant = the sales they visited.
  Per customer: precision@10, recall@10, NDCG@10, hit@10, revenue of the relevant sales in the top 10, and AUC
  (the probability that a relevant sale scores above an irrelevant one, ties counting half); averaged over the
  customers of the day (revenue: summed). All of it follows from the places of the relevant sales
  (int_evaluation_ranks): a customer's top 10 holds hits relevant sales and 10 - hits others.
-#}
{{ config(materialized='view') }}

with ranks as (
    select * from {{ ref('int_evaluation_ranks') }}
),

per_user as (
    select
        scored_for, user_id, recommender, sales_segment, target,
        count(*) as relevant,
        sum(case when score_rank <= 10 then 1 else 0 end) as hits,
        sum(case when score_rank <= 10 then 1.0 / (ln(score_rank + 1.0) / ln(2.0)) else 0 end) as dcg,
        sum(case when score_rank <= 10 then amount_eur else 0 end) as revenue,
        -- every relevant sale of a customer has the same negatives: the mean over relevant sales is the mean
        -- over (relevant, negative) pairs
        avg(case when negatives > 0 then (negatives_below + 0.5 * negatives_tied) / cast(negatives as double) end) as auc
    from ranks
    group by scored_for, user_id, recommender, sales_segment, target
),

ideal_dcg as (
    select
        r.scored_for, r.user_id, r.recommender, r.sales_segment, r.target,
        sum(1.0 / (ln(k.generated_number + 1.0) / ln(2.0))) as idcg
    from per_user as r
    inner join ({{ dbt.generate_series(10) }}) as k
        on k.generated_number <= r.relevant
    group by r.scored_for, r.user_id, r.recommender, r.sales_segment, r.target
),

scored as (
    select
        r.scored_for, r.user_id, r.recommender, r.sales_segment, r.target,
        cast(r.hits as double) / 10 as precision_at_10,
        cast(r.hits as double) / r.relevant as recall_at_10,
        r.dcg / i.idcg as ndcg_at_10,
        cast(case when r.hits > 0 then 1 else 0 end as double) as hit_at_10,
        r.revenue,
        r.auc
    from per_user as r
    inner join ideal_dcg as i
        on i.scored_for = r.scored_for and i.user_id = r.user_id
        and i.recommender = r.recommender and i.sales_segment = r.sales_segment
        and i.target = r.target
)

select
    d.run_date,
    p.scored_for as evaluated_on,
    p.recommender,
    p.sales_segment,
    p.target,
    count(*) as users,
    avg(p.precision_at_10) as p_at_10,
    avg(p.recall_at_10) as r_at_10,
    avg(p.ndcg_at_10) as ndcg_at_10,
    avg(p.hit_at_10) as hit_rate_at_10,
    sum(p.revenue) as revenue_at_10,
    avg(p.auc) as auc
from scored as p
inner join {{ ref('int_scoring_days') }} as d
    on d.scored_for = p.scored_for
group by d.run_date, p.scored_for, p.recommender, p.sales_segment, p.target
