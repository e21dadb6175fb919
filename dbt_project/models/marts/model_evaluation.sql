{#-
  Offline evaluation by time (public): on each evaluation day, each recommender alone ranks every open sale for
  each customer, compared with what the customer did that day.
    target = purchases: the day's buyers; relevant = the sales they bought.
    target = visits:    a seeded sample of the day's visitors; relevant = the sales they visited.
  Per customer: precision@10, recall@10, NDCG@10, hit@10, revenue of the relevant sales in the top 10, and AUC
  (the probability that a relevant sale scores above an irrelevant one, ties counting half); averaged over the
  customers of the day (revenue: summed).
-#}
with scores as (
    select e.*, u.is_buyer, u.is_sampled_visitor
    from {{ ref('int_evaluation_scores') }} as e
    inner join {{ ref('int_scoring_users') }} as u
        on u.scored_for = e.scored_for and u.user_id = e.user_id
),

targeted as (
    select
        scored_for, user_id, sale_id, recommender, sales_segment, score, score_rank, amount_eur,
        'purchases' as target, is_bought as is_relevant
    from scores
    where is_buyer

    union all

    select
        scored_for, user_id, sale_id, recommender, sales_segment, score, score_rank, 0.0 as amount_eur,
        'visits' as target, is_visited as is_relevant
    from scores
    where is_sampled_visitor
),

relevant_counts as (
    select
        scored_for, user_id, recommender, sales_segment, target,
        sum(case when is_relevant then 1 else 0 end) as relevant
    from targeted
    group by scored_for, user_id, recommender, sales_segment, target
),

ideal_dcg as (
    select
        r.scored_for, r.user_id, r.recommender, r.sales_segment, r.target,
        sum(1.0 / (ln(k.generated_number + 1.0) / ln(2.0))) as idcg
    from relevant_counts as r
    inner join ({{ dbt.generate_series(10) }}) as k
        on k.generated_number <= r.relevant
    group by r.scored_for, r.user_id, r.recommender, r.sales_segment, r.target
),

top_10 as (
    select
        scored_for, user_id, recommender, sales_segment, target,
        sum(case when is_relevant then 1 else 0 end) as hits,
        sum(case when is_relevant then 1.0 / (ln(score_rank + 1.0) / ln(2.0)) else 0 end) as dcg,
        sum(case when is_relevant then amount_eur else 0 end) as revenue
    from targeted
    where score_rank <= 10
    group by scored_for, user_id, recommender, sales_segment, target
),

auc_pairs as (
    select
        p.scored_for, p.user_id, p.recommender, p.sales_segment, p.target,
        avg(case when p.score > n.score then 1.0 when p.score = n.score then 0.5 else 0.0 end) as auc
    from targeted as p
    inner join targeted as n
        on n.scored_for = p.scored_for and n.user_id = p.user_id
        and n.recommender = p.recommender and n.sales_segment = p.sales_segment and n.target = p.target
        and not n.is_relevant
    where p.is_relevant
    group by p.scored_for, p.user_id, p.recommender, p.sales_segment, p.target
),

per_user as (
    select
        r.scored_for, r.user_id, r.recommender, r.sales_segment, r.target,
        t.hits / 10.0 as precision_at_10,
        cast(t.hits as double) / r.relevant as recall_at_10,
        t.dcg / i.idcg as ndcg_at_10,
        case when t.hits > 0 then 1.0 else 0.0 end as hit_at_10,
        t.revenue,
        a.auc
    from relevant_counts as r
    inner join top_10 as t
        on t.scored_for = r.scored_for and t.user_id = r.user_id
        and t.recommender = r.recommender and t.sales_segment = r.sales_segment
        and t.target = r.target
    inner join ideal_dcg as i
        on i.scored_for = r.scored_for and i.user_id = r.user_id
        and i.recommender = r.recommender and i.sales_segment = r.sales_segment
        and i.target = r.target
    left join auc_pairs as a
        on a.scored_for = r.scored_for and a.user_id = r.user_id
        and a.recommender = r.recommender and a.sales_segment = r.sales_segment
        and a.target = r.target
    where r.relevant > 0
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
from per_user as p
inner join {{ ref('int_scoring_days') }} as d
    on d.scored_for = p.scored_for
group by d.run_date, p.scored_for, p.recommender, p.sales_segment, p.target
