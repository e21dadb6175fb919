{#-
  Every open sale's score by each recommender alone (and by the meta models), for each customer scored on an
  evaluation day, in long form, with its rank (1 = best; ties, such as sales a sparse recommender gave no score, broken by a seeded hash, so a
  recommender that knows nothing ranks at random) and whether the customer bought / visited it that day.
  Two segments of sales: `all` open sales, and `new_sales` (open for at most cold_start_days days: no co-visits
  yet), ranked among themselves, which measures the cold start.
-#}
with features as (
    select f.*, m.meta_score, m.meta_no_image_score
    from {{ ref('int_candidate_features') }} as f
    inner join {{ ref('int_scoring_days') }} as d
        on d.scored_for = f.scored_for
    inner join {{ ref('int_meta_scores') }} as m
        on m.scored_for = f.scored_for and m.user_id = f.user_id and m.sale_id = f.sale_id
    where d.is_evaluation
),

scores as (
    {% for recommender, column in [
        ('cf', 'cf_score'),
        ('cb_text', 'cb_text_score'),
        ('cb_destination', 'cb_destination_score'),
        ('cb_price', 'cb_price_score'),
        ('cb_image', 'cb_image_score'),
        ('content_based', 'cb_text_score + cb_destination_score + cb_price_score + cb_image_score'),
        ('popularity', 'popularity_visits'),
        ('meta', 'meta_score'),
        ('meta_no_image', 'meta_no_image_score'),
    ] %}
    select
        scored_for, user_id, sale_id, days_since_open, '{{ recommender }}' as recommender,
        cast({{ column }} as double) as score
    from features
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

segmented as (
    select scored_for, user_id, sale_id, recommender, score, 'all' as sales_segment
    from scores
    union all
    select scored_for, user_id, sale_id, recommender, score, 'new_sales' as sales_segment
    from scores
    where days_since_open <= {{ var('cold_start_days') }}
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
    s.sales_segment,
    s.score,
    row_number() over (
        partition by s.scored_for, s.user_id, s.recommender, s.sales_segment
        order by s.score desc, {{ stable_uniform(['s.sale_id', 's.scored_for'], var('sampling_seed')) }}, s.sale_id
    ) as score_rank,
    b.sale_id is not null as is_bought,
    coalesce(b.amount_eur, 0) as amount_eur,
    v.sale_id is not null as is_visited
from segmented as s
left join bought as b
    on b.scored_for = s.scored_for and b.user_id = s.user_id and b.sale_id = s.sale_id
left join visited as v
    on v.scored_for = s.scored_for and v.user_id = s.user_id and v.sale_id = s.sale_id
