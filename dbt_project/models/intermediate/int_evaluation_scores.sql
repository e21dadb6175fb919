{#-
  Every open sale's score by each recommender alone, for each customer scored on an evaluation day, in long form,
  with its rank (1 = best; ties, such as sales a sparse recommender gave no score, broken by a seeded hash, so a
  recommender that knows nothing ranks at random) and whether the customer bought / visited it that day.
-#}
with features as (
    select f.*
    from {{ ref('int_candidate_features') }} as f
    inner join {{ ref('int_scoring_days') }} as d
        on d.scored_for = f.scored_for
    where d.is_evaluation
),

scores as (
    {% for recommender, column in [
        ('cf', 'cf_score'),
        ('cb_text', 'cb_text_score'),
        ('cb_destination', 'cb_destination_score'),
        ('cb_price', 'cb_price_score'),
        ('content_based', 'cb_text_score + cb_destination_score + cb_price_score'),
        ('popularity', 'popularity_visits'),
    ] %}
    select scored_for, user_id, sale_id, '{{ recommender }}' as recommender, cast({{ column }} as double) as score
    from features
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

bought as (
    select purchased_on as scored_for, user_id, sale_id, sum(amount_eur) as amount_eur
    from {{ ref('stg_purchases') }}
    group by purchased_on, user_id, sale_id
),

visited as (
    select distinct visited_on as scored_for, user_id, sale_id
    from {{ ref('int_daily_visits') }}
)

select
    s.scored_for,
    s.user_id,
    s.sale_id,
    s.recommender,
    s.score,
    row_number() over (
        partition by s.scored_for, s.user_id, s.recommender
        order by s.score desc, {{ stable_uniform(['s.sale_id', 's.scored_for'], var('sampling_seed')) }}, s.sale_id
    ) as score_rank,
    b.sale_id is not null as is_bought,
    coalesce(b.amount_eur, 0) as amount_eur,
    v.sale_id is not null as is_visited
from scores as s
left join bought as b
    on b.scored_for = s.scored_for and b.user_id = s.user_id and b.sale_id = s.sale_id
left join visited as v
    on v.scored_for = s.scored_for and v.user_id = s.user_id and v.sale_id = s.sale_id
