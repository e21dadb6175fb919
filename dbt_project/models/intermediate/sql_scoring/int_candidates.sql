{#-
  The (day, customer, sale) pairs that get scored.
  Tonight: candidates, not the full cross product (1 M customers x 300 sales would be 300 M rows): the union of each
  recommender's top candidates_per_recommender sales and the candidates_popular most popular open sales.
  Evaluation days: every open sale for each scored customer (rankings are evaluated over all open sales), each pair
  flagged with is_candidate as tonight's rule would have flagged it, which measures the candidates' recall. The
  other history days (training only): the training pairs of int_training_pairs, flagged the same way.
  A sale the customer already bought before the day is never a pair.
  Each pair carries each recommender's rank: its place in that recommender's top candidates_per_recommender for the
  customer (1 = the best; the sales already bought count, as the top is cut before removing them), and
  candidates_per_recommender + 1 outside that top. Exact on history days and tonight alike: the top is the same.
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
    -- ranked by the score rounded to 10 decimals, as int_candidate_features serves it: sums added in another order
    -- (the matrix engine's) give the same order
    select scored_for, user_id, sale_id, recommender, round(score, 10) as score
    from sparse_scores
    where round(score, 10) > 0
),

top_ranked as (
    -- each recommender's top candidates_per_recommender (ties by sale_id), with its place in that list
    select *
    from {{ top_n('scored', ['scored_for', 'user_id', 'recommender'], 'sale_id', 'score',
                  var('candidates_per_recommender'), rank_as='recommender_rank') }} as top
),

recommender_ranks as (
    -- one column per recommender: the place in its top list (null outside it)
    select
        scored_for,
        user_id,
        sale_id
        {%- for recommender, column in [('cf', 'cf_rank'), ('text', 'cb_text_rank'),
            ('destination', 'cb_destination_rank'), ('price', 'cb_price_rank'), ('image', 'cb_image_rank')] %},
        min(case when recommender = '{{ recommender }}' then recommender_rank end) as {{ column }}
        {%- endfor %}
    from top_ranked
    group by scored_for, user_id, sale_id
),

candidates as (
    select scored_for, user_id, sale_id
    from top_ranked

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

    -- history days: every open sale, flagged; on the training days that are not evaluation days, only the
    -- training pairs
    select u.scored_for, u.user_id, o.sale_id, c.sale_id is not null as is_candidate
    from users as u
    inner join days as d
        on d.scored_for = u.scored_for
    inner join {{ ref('int_open_sales') }} as o
        on o.scored_for = u.scored_for
    left join candidates as c
        on c.scored_for = u.scored_for and c.user_id = u.user_id and c.sale_id = o.sale_id
    left join {{ ref('int_training_pairs') }} as t
        on t.scored_for = u.scored_for and t.user_id = u.user_id and t.sale_id = o.sale_id
    where not d.is_nightly and (d.is_evaluation or t.sale_id is not null)
)

select
    p.scored_for,
    p.user_id,
    p.sale_id,
    p.is_candidate
    {%- for column in ['cf_rank', 'cb_text_rank', 'cb_destination_rank', 'cb_price_rank', 'cb_image_rank'] %},
    coalesce(r.{{ column }}, {{ var('candidates_per_recommender') + 1 }}) as {{ column }}
    {%- endfor %}
from pairs as p
left join recommender_ranks as r
    on r.scored_for = p.scored_for and r.user_id = p.user_id and r.sale_id = p.sale_id
left join bought_before as b
    on b.scored_for = p.scored_for and b.user_id = p.user_id and b.sale_id = p.sale_id
where b.sale_id is null
