{#-
  Every scored feature of each scored (scoring day, customer, sale) pair of int_candidates: one column per
  recommender's score and rank and per signal (macros/recommenders.sql declares them), the one table the training
  set, tonight's scores and the evaluation read. A score is 0 where the recommender had nothing to say. Scores and
  price_ratio are rounded to 10 decimals: sums add in an order that can vary, and a rerun for the same date must
  give the same result.
-#}
{%- set recommenders = scored_recommenders() %}
{%- set stored = recommenders | map(attribute='source') | reject('equalto', 'int_content_scores') | unique | list %}
{%- set stored_recommenders = recommenders | selectattr('source', 'in', stored) | list %}
{#- tonight's bucket of the candidates (macros/customer_buckets.sql), inlined where read: not a CTE read three times #}
{%- set candidates %}(select * from {{ ref('int_candidates') }} where {{ in_customer_bucket('user_id') }}){% endset %}
with stored_scores as (
    -- the pairs' scores stored in rows (int_cf_scores: sparse), one column per recommender
    select
        c.scored_for,
        c.user_id,
        c.sale_id
        {%- for r in stored_recommenders %},
        sum(case when s.recommender = '{{ r.name }}' then s.score else 0 end) as {{ r.name }}_score
        {%- endfor %}
    from (
        {%- for source in stored %}
        select scored_for, user_id, sale_id, recommender, score
        from {{ ref(source) }}
        where {{ in_customer_bucket('user_id') }}
        {{- '\n\n        union all\n' if not loop.last }}
        {%- endfor %}
    ) as s
    inner join {{ candidates }} as c
        on c.scored_for = s.scored_for and c.user_id = s.user_id and c.sale_id = s.sale_id
    group by c.scored_for, c.user_id, c.sale_id
),

content_scores as (
    -- the pairs' content scores, computed for the pairs only (the view int_content_scores is every open sale)
    {{ content_score_columns(candidates) }}
)

select
    c.scored_for,
    c.user_id,
    c.sale_id,
    c.is_candidate,
    {%- for r in recommenders %}
    round(coalesce({{ 's' if r in stored_recommenders else 'cb' }}.{{ r.name }}_score, 0), 10) as {{ r.name }}_score,
    {%- endfor %}
    {%- for r in recommenders %}
    c.{{ r.name }}_rank,
    {%- endfor %}
    p.recent_visits as popularity_visits,
    p.popularity_rank,
    coalesce(w.visits, 0) as user_sale_visits,
    o.days_since_open,
    o.days_left,
    o.price_eur,
    round(o.price_eur / r.median_visited_price_eur, 10) as price_ratio
from {{ candidates }} as c
inner join {{ ref('int_open_sales') }} as o
    on o.scored_for = c.scored_for and o.sale_id = c.sale_id
inner join {{ ref('int_sale_popularity') }} as p
    on p.scored_for = c.scored_for and p.sale_id = c.sale_id
left join stored_scores as s
    on s.scored_for = c.scored_for and s.user_id = c.user_id and s.sale_id = c.sale_id
left join content_scores as cb
    on cb.scored_for = c.scored_for and cb.user_id = c.user_id and cb.sale_id = c.sale_id
left join {{ ref('int_user_window_sales') }} as w
    on w.scored_for = c.scored_for and w.user_id = c.user_id and w.sale_id = c.sale_id
left join {{ ref('int_user_price_reference') }} as r
    on r.scored_for = c.scored_for and r.user_id = c.user_id
