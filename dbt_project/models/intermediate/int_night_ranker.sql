{#-
  What ranks tonight's home pages, one row per night: the served meta model when there is one (int_meta_served),
  else the single recommender with the best NDCG@10 on the evaluation days' purchases, else popularity when no
  evaluation day can tell (a day counts when some visits came before it: with no history every recommender ranks
  at random). Ties go to popularity, then to the name. A customer's first nights are ranked this way until the
  history can train the meta model (int_meta_readiness); reason says which case the night is, in words the summary,
  last_run.json and the report print.
-#}
{%- set singles = single_recommenders() %}
with readiness as (
    select * from {{ ref('int_meta_readiness') }}
),

served as (
    select max(model_version) as model_version
    from {{ ref('int_meta_served') }}
    where slot = 'served'
    having count(*) > 0
),

first_visit as (
    select min(visited_on) as first_visited_on
    from {{ ref('stg_visits') }}
),

evaluated as (
    -- each single recommender on the purchases of the evaluation days with history before them, mean over buyers
    select
        m.recommender,
        count(*) as days,
        sum(m.ndcg_at_10 * m.users) / sum(m.users) as ndcg_at_10
    from {{ ref('int_evaluation_metrics') }} as m
    cross join first_visit as v
    where m.target = 'purchases'
        and m.sales_segment = 'all'
        and m.evaluated_on > v.first_visited_on
        and m.recommender in ({% for name, _, _ in singles %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %})
    group by m.recommender
),

best as (
    select recommender, days, ndcg_at_10
    from (
        select
            e.*,
            row_number() over (
                order by e.ndcg_at_10 desc,
                    case when e.recommender = '{{ fallback_recommender() }}' then 0 else 1 end,
                    e.recommender
            ) as position
        from evaluated as e
    ) as ordered
    where position = 1
),

chosen as (
    select
        r.run_date,
        r.purchase_days,
        r.required_days,
        s.model_version as meta_model_version,
        b.recommender as best_recommender,
        b.days as evaluated_days,
        b.ndcg_at_10,
        case
            when s.model_version is not null then 'meta'
            else coalesce(b.recommender, '{{ fallback_recommender() }}')
        end as ranker
    from readiness as r
    left join served as s
        on 1 = 1
    left join best as b
        on 1 = 1
)

select
    run_date,
    ranker,
    case
        when ranker = 'meta' then meta_model_version
        else {{ dbt.concat(["'single_'", "ranker", "'_'",
                            dbt.replace(dbt.cast('run_date', dbt.type_string()), "'-'", "''")]) }}
    end as model_version,
    ndcg_at_10 as evaluation_ndcg_at_10,
    case
        when ranker = 'meta' then {{ dbt.concat([
            "'the meta model ('", "meta_model_version", "')'"]) }}
        else {{ dbt.concat([
            "'the meta model needs purchases on '", dbt.cast('required_days', dbt.type_string()),
            "' training days before the evaluation days, the history has '",
            dbt.cast('purchase_days', dbt.type_string()), "': '",
            "case when best_recommender is null then 'no evaluation day with history before it has purchases to "
                ~ "evaluate on, ranked by " ~ fallback_recommender() ~ "' else " ~ dbt.concat([
                "'ranked by '", "ranker", "', the best single recommender on the evaluation days (NDCG@10 '",
                dbt.cast('round(ndcg_at_10, 4)', dbt.type_string()), "' over '",
                dbt.cast('evaluated_days', dbt.type_string()), "' days)'"]) ~ " end"]) }}
    end as reason
from chosen
