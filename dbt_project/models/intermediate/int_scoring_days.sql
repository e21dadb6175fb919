{#-
  The days this run scores, one row each: the night itself (run_date) and the history days before it. Purchases of
  history days make the training set; the last `evaluation_days` of them are ranked and scored in model_evaluation.
  Every score is computed "as of" its day: only events strictly before scored_for are used.
-#}
with run as (
    {% if var('run_date') -%}
    select cast('{{ var("run_date") }}' as date) as run_date
    {%- else -%}
    select {{ add_days('max(visited_on)', 1) }} as run_date
    from {{ ref('stg_visits') }}
    {%- endif %}
),

offsets as (
    select cast(generated_number as integer) - 1 as days_before
    from ({{ dbt.generate_series([var('training_days'), var('evaluation_days')] | max + 1) }}) as series
)

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
