{#-
  The (scoring day, customer, sale) pairs that get scored, with each recommender's rank: the candidate rule.
    tonight          the candidates of every active customer: the union of each recommender's top
                     candidates_per_recommender sales and the candidates_popular most popular open sales (not every
                     open sale: the meta model ranks a short list)
    evaluation days  every open sale of each scored customer (rankings are evaluated over all open sales), flagged
                     with is_candidate as tonight's rule would flag it: the candidates' recall
    other history    the training pairs of int_training_pairs, flagged the same way
  A sale the customer bought before the day is never a pair (removed after the top lists are cut).
  <recommender>_rank: the sale's place in that recommender's top list for the customer (int_recommender_ranks),
  candidates_per_recommender + 1 outside it. The recommenders come from macros/recommenders.sql.
-#}
{%- set recommenders = scored_recommenders() %}
with users as (
    select * from {{ ref('int_scoring_users') }}
    where {{ in_customer_bucket('user_id') }}
),

days as (
    select * from {{ ref('int_scoring_days') }}
),

recommender_ranks as (
    select
        scored_for,
        user_id,
        sale_id
        {%- for r in recommenders %},
        min(case when recommender = '{{ r.name }}' then recommender_rank end) as {{ r.name }}_rank
        {%- endfor %}
    from {{ ref('int_recommender_ranks') }}
    where {{ in_customer_bucket('user_id') }}
    group by scored_for, user_id, sale_id
),

candidates as (
    select scored_for, user_id, sale_id
    from recommender_ranks

    union

    select u.scored_for, u.user_id, p.sale_id
    from users as u
    inner join {{ ref('int_sale_popularity') }} as p
        on p.scored_for = u.scored_for
    where p.popularity_rank <= {{ var('candidates_popular') }}
),

bought_before as (
    {{ bought_before('users') }}
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

    -- history days: every open sale on evaluation days, the training pairs on the others; flagged
    select u.scored_for, u.user_id, o.sale_id, c.sale_id is not null as is_candidate
    from users as u
    inner join days as d
        on d.scored_for = u.scored_for
    inner join {{ ref('int_open_sales') }} as o
        on o.scored_for = u.scored_for
    inner join {{ ref('int_sale_popularity') }} as p
        on p.scored_for = o.scored_for and p.sale_id = o.sale_id
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
    {%- for r in recommenders %},
    coalesce(r.{{ r.name }}_rank, {{ var('candidates_per_recommender') + 1 }}) as {{ r.name }}_rank
    {%- endfor %}
from pairs as p
left join recommender_ranks as r
    on r.scored_for = p.scored_for and r.user_id = p.user_id and r.sale_id = p.sale_id
left join bought_before as b
    on b.scored_for = p.scored_for and b.user_id = p.user_id and b.sale_id = p.sale_id
where b.sale_id is null
