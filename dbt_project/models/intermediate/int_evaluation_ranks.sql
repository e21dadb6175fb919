{#-
  The place of each relevant sale in each recommender's ranking of the open sales, for the customers of the
  evaluation days: the rows model_evaluation needs, and only those.
    target = purchases: the day's buyers; relevant = the sales they bought (with the amount).
    target = visits:    a seeded sample of the day's visitors; relevant = the sales they visited.
  Recommenders: each one alone (macro single_recommenders: every scored recommender, content_based = the content
  families' sum, popularity) and the meta models (meta, meta_no_image) on a night that has them. Two segments of
  sales: `all` open sales, and `new_sales` (open for at most cold_start_days days: no co-visits yet), ranked among
  themselves, which measures the cold start.
  Grain and key: (scored_for, user_id, recommender, sales_segment, target, sale_id).

  A recommender ranks a customer's open sales by score, ties broken by a seeded hash (a recommender that knows
  nothing ranks at random), then by sale_id. Rather than sort every open sale of every customer once per
  recommender and segment, each relevant sale is compared with the customer's other open sales (a join on the day
  and customer):
    score_rank        1 + the sales ranked before it: its row_number() in that order, exactly
    negatives         the sales that are not relevant for the target
    negatives_below   of those, how many score below it, and negatives_tied how many score the same (the AUC)
  Why: a customer has a few relevant sales, so the join holds a few times the day's open-sale rows, where a sort
  per recommender and segment would sort all of them each time.
-#}
{%- set recommenders = [] %}
{%- for name, score, _ in single_recommenders() %}{% do recommenders.append((name, score)) %}{% endfor %}
{#- the meta models, each ranked only on a night that has it (int_meta_served's slot) -#}
{%- set meta_slots = {'meta': 'served', 'meta_no_image': 'no_image'} %}
{%- do recommenders.extend([('meta', 'meta_score'), ('meta_no_image', 'meta_no_image_score')]) %}
{%- set segments = [('all', 'true'), ('new_sales', 's.is_new_sale')] %}
with features as (
    select
        f.scored_for,
        f.user_id,
        f.sale_id,
        f.days_since_open <= {{ var('cold_start_days') }} as is_new_sale,
        {{ stable_uniform(['f.sale_id', 'f.scored_for'], var('sampling_seed')) }} as tie_break
        {%- for recommender, column in recommenders %},
        cast({{ column }} as double) as {{ recommender }}
        {%- endfor %}
    from (
        select f.*, m.meta_score, m.meta_no_image_score
        from {{ ref('int_candidate_features') }} as f
        inner join {{ ref('int_meta_scores') }} as m
            on m.scored_for = f.scored_for and m.user_id = f.user_id and m.sale_id = f.sale_id
    ) as f
    inner join {{ ref('int_scoring_days') }} as d
        on d.scored_for = f.scored_for
    where d.is_evaluation
),

targets as (
    select scored_for, user_id, 'purchases' as target
    from {{ ref('int_scoring_users') }}
    where is_buyer
    union all
    select scored_for, user_id, 'visits' as target
    from {{ ref('int_scoring_users') }}
    where is_sampled_visitor
),

bought as (
    select purchased_on as scored_for, user_id, sale_id, sum(amount_eur) as amount_eur
    from {{ ref('stg_purchases') }}
    group by purchased_on, user_id, sale_id
),

visited as (
    select distinct visited_on as scored_for, user_id, sale_id
    from {{ ref('int_daily_visits') }}
),

labelled as (
    select
        f.*,
        t.target,
        case when t.target = 'purchases' then b.sale_id is not null else v.sale_id is not null end as is_relevant,
        case when t.target = 'purchases' then coalesce(b.amount_eur, 0) else 0.0 end as amount_eur
    from features as f
    inner join targets as t
        on t.scored_for = f.scored_for and t.user_id = f.user_id
    left join bought as b
        on b.scored_for = f.scored_for and b.user_id = f.user_id and b.sale_id = f.sale_id
    left join visited as v
        on v.scored_for = f.scored_for and v.user_id = f.user_id and v.sale_id = f.sale_id
),

compared as (
    -- each relevant sale p against every open sale s of the same customer, day and target (itself included: it
    -- is neither before itself nor a negative)
    select
        p.scored_for,
        p.user_id,
        p.sale_id,
        p.target,
        p.is_new_sale,
        p.amount_eur
        {%- for segment, in_segment in segments %}
        {%- set s_counts = 'case when ' ~ in_segment ~ ' and not s.is_relevant then 1 else 0 end' %},
        sum({{ s_counts }}) as {{ segment }}__negatives
        {%- for recommender, column in recommenders %},
        1 + sum(case when {{ in_segment }} and (
                s.{{ recommender }} > p.{{ recommender }}
                or (s.{{ recommender }} = p.{{ recommender }} and (
                    s.tie_break < p.tie_break or (s.tie_break = p.tie_break and s.sale_id < p.sale_id)))
            ) then 1 else 0 end) as {{ segment }}__{{ recommender }}__rank,
        sum(case when {{ in_segment }} and not s.is_relevant and s.{{ recommender }} < p.{{ recommender }}
            then 1 else 0 end) as {{ segment }}__{{ recommender }}__below,
        sum(case when {{ in_segment }} and not s.is_relevant and s.{{ recommender }} = p.{{ recommender }}
            then 1 else 0 end) as {{ segment }}__{{ recommender }}__tied
        {%- endfor %}
        {%- endfor %}
    from labelled as p
    inner join labelled as s
        on s.scored_for = p.scored_for and s.user_id = p.user_id and s.target = p.target
    where p.is_relevant
    group by p.scored_for, p.user_id, p.sale_id, p.target, p.is_new_sale, p.amount_eur
),

pairs as (
    -- one row per (recommender, segment) that the night ranks: unpivots `compared` in one pass (a union of one
    -- select per pair would recompute `compared` per pair on an engine that does not materialize a CTE, Spark)
    {%- for segment, _ in segments %}
    {%- set outer_last = loop.last %}
    {%- for recommender, _ in recommenders %}
    select '{{ recommender }}' as recommender, '{{ segment }}' as sales_segment,
        {{ "'" ~ meta_slots[recommender] ~ "'" if recommender in meta_slots else 'null' }} as meta_slot
    {%- if not (outer_last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
),

served_slots as (
    select distinct slot from {{ ref('int_meta_served') }}
)

select
    c.scored_for,
    c.user_id,
    c.sale_id,
    k.recommender,
    k.sales_segment,
    c.target,
    {#- each pair's columns of `compared`: <segment>__<recommender>__<suffix>, or <segment>__negatives #}
    {%- for column, suffix in [('score_rank', 'rank'), ('negatives', none), ('negatives_below', 'below'),
                               ('negatives_tied', 'tied')] %}
    case
        {%- for segment, _ in segments %}
        {%- if suffix is none %}
        when k.sales_segment = '{{ segment }}' then c.{{ segment }}__negatives
        {%- else %}{% for recommender, _ in recommenders %}
        when k.sales_segment = '{{ segment }}' and k.recommender = '{{ recommender }}'
            then c.{{ segment }}__{{ recommender }}__{{ suffix }}
        {%- endfor %}{% endif %}
        {%- endfor %}
    end as {{ column }},
    {%- endfor %}
    c.amount_eur
from compared as c
cross join pairs as k
left join served_slots as v
    on v.slot = k.meta_slot
where (k.sales_segment = 'all' or c.is_new_sale)
    -- a meta model is ranked only on a night that has it
    and (k.meta_slot is null or v.slot is not null)
