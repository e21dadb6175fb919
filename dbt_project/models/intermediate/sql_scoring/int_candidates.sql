{#-
  The (day, customer, sale) pairs that get scored.
  Tonight: candidates, not the full cross product (1 M customers x 300 sales would be 300 M rows): the union of each
  recommender's top candidates_per_recommender sales and the candidates_popular most popular open sales.
  History days: every open sale for each scored customer (rankings are evaluated over all open sales), each pair
  flagged with is_candidate as tonight's rule would have flagged it, which measures the candidates' recall.
  A sale the customer already bought before the day is never a pair.
-#}
{{ config(enabled=var('scoring_engine') == 'sql') }}
with users as (
    select * from {{ ref('int_scoring_users') }}
),

days as (
    select * from {{ ref('int_scoring_days') }}
),

sparse_scores as (
    select scored_for, user_id, sale_id, 'cf' as recommender, cf_score as score
    from {{ ref('int_cf_scores') }}

    union all

    select scored_for, user_id, sale_id, family as recommender, score
    from {{ ref('int_content_scores') }}
),

scored as (
    select scored_for, user_id, sale_id, recommender, score
    from sparse_scores
    where score > 0
),

candidates as (
    -- each recommender's top candidates_per_recommender (ties by sale_id)
    select scored_for, user_id, sale_id
    from {{ top_n('scored', ['scored_for', 'user_id', 'recommender'], 'sale_id', 'score',
                  var('candidates_per_recommender')) }} as top

    union

    select u.scored_for, u.user_id, p.sale_id
    from users as u
    inner join {{ ref('int_sale_popularity') }} as p
        on p.scored_for = u.scored_for
    where p.popularity_rank <= {{ var('candidates_popular') }}
),

bought_before as (
    select distinct u.scored_for, u.user_id, p.sale_id
    from users as u
    inner join {{ ref('stg_purchases') }} as p
        on p.user_id = u.user_id
        and p.purchased_on < u.scored_for
),

pairs as (
    -- tonight: the candidates of active customers
    select c.scored_for, c.user_id, c.sale_id, true as is_candidate
    from candidates as c
    inner join users as u
        on u.scored_for = c.scored_for and u.user_id = c.user_id
    inner join days as d
        on d.scored_for = c.scored_for
    where d.is_nightly and u.is_active_tonight

    union all

    -- history days: every open sale, flagged
    select u.scored_for, u.user_id, o.sale_id, c.sale_id is not null as is_candidate
    from users as u
    inner join days as d
        on d.scored_for = u.scored_for
    inner join {{ ref('int_open_sales') }} as o
        on o.scored_for = u.scored_for
    left join candidates as c
        on c.scored_for = u.scored_for and c.user_id = u.user_id and c.sale_id = o.sale_id
    where not d.is_nightly
)

select p.scored_for, p.user_id, p.sale_id, p.is_candidate
from pairs as p
left join bought_before as b
    on b.scored_for = p.scored_for and b.user_id = p.user_id and b.sale_id = p.sale_id
where b.sale_id is null
