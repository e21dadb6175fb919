{#-
  The days this run scores, one row each: the night itself (run_date) and the history days before it. Purchases of
  history days make the training set; the last `evaluation_days` of them are ranked and scored in model_evaluation.
  Every score is computed "as of" its day: only events strictly before scored_for are used.
  inputs_key says what a day's rows in the incremental as-of models are computed from (macros/as_of_days.sql): the
  day's role, the newest ingest batch holding an input of the day, and the code and vars of those models.
-#}
with run as (
    {% if var('run_date') -%}
    select cast('{{ var("run_date") }}' as date) as run_date
    {%- else -%}
    select {{ add_days('max(visited_on)', 1) }} as run_date
    from {{ ref('stg_visits') }}
    {%- endif %}
),

-- the newest ingest batch holding a visit or purchase of each day, or a version of a sale opening that day (a sale
-- counts from the earliest opening any of its versions gave)
batches_by_day as (
    select visited_on as input_on, max(loaded_in_batch) as batch_id
    from {{ ref('stg_visits') }}
    group by visited_on
    union all
    select purchased_on as input_on, max(loaded_in_batch) as batch_id
    from {{ ref('stg_purchases') }}
    group by purchased_on
    union all
    select earliest_opens_on as input_on, max(loaded_in_batch) as batch_id
    from {{ ref('stg_sales') }}
    group by earliest_opens_on
),

offsets as (
    select cast(generated_number as integer) - 1 as days_before
    from ({{ dbt.generate_series([var('training_days'), var('evaluation_days')] | max + 1) }}) as series
),

days as (
    select
        {{ add_days('run.run_date', '-offsets.days_before') }} as scored_for,
        run.run_date,
        offsets.days_before,
        offsets.days_before = 0 as is_nightly,
        offsets.days_before between 1 and {{ var('training_days') }} as is_training,
        offsets.days_before between 1 and {{ var('evaluation_days') }} as is_evaluation
    from run
    cross join offsets
    where run.run_date is not null
),

watermarks as (
    select d.scored_for, coalesce(max(b.batch_id), 0) as batch_id
    from days as d
    left join batches_by_day as b
        on b.input_on <= d.scored_for
    group by d.scored_for
)

select
    d.scored_for,
    d.run_date,
    d.days_before,
    d.is_nightly,
    d.is_training,
    d.is_evaluation,
    {{ dbt.concat([
        "case when d.is_nightly then 'n' else '' end",
        "case when d.is_training then 't' else '' end",
        "case when d.is_evaluation then 'e' else '' end",
        "'-'", dbt.cast('w.batch_id', dbt.type_string()),
        "'-" ~ as_of_code_key() ~ "'"]) }} as inputs_key
from days as d
inner join watermarks as w
    on w.scored_for = d.scored_for
