{#-
  Incremental "as of" models: each scoring day's rows are computed from the events before that day (and that day's
  purchases and visits, for the history days' buyers and visitors), so they need not be computed again the next
  night: a night adds tonight and yesterday, and recomputes the days whose role changed (an evaluation day
  becoming a training-only day) or whose inputs changed. Those models (tag `as_of_day`):

    {{ config(materialized='incremental', incremental_strategy='append', tags=['as_of_day'],
              partition_by=as_of_partition(), pre_hook="{{ prune_stale_days() }}") }}
    with days as ({{ days_to_compute() }}) ...     -- and every output row carries days.inputs_key

  int_scoring_days.inputs_key says what a day's rows are computed from: the day's role (nightly, training,
  evaluation), the newest ingest batch that holds an input of the day (a visit or purchase on or before it, a
  version of a sale open on or before it: a late event or a changed sale changes it), and as_of_code_key() (the
  code of the as-of models and of everything they read, and the vars they use). The pre-hook deletes the rows of
  every day whose key is not tonight's key for that day (changed, or out of the window); days_to_compute() is then
  every scoring day without rows. An incremental build therefore gives the same rows as a full refresh.
-#}

{#- The scoring days that have no rows in this model yet (all of them on a first or full-refresh build). -#}
{% macro days_to_compute() -%}
select d.scored_for, d.run_date, d.days_before, d.is_nightly, d.is_training, d.is_evaluation, d.inputs_key
from {{ ref('int_scoring_days') }} as d
{%- if is_incremental() %}
where d.scored_for not in (select distinct done.scored_for from {{ this }} as done)
{%- endif %}
{%- endmacro %}


{#-
  Pre-hook: remove the rows of days whose inputs_key is not the current one for that day (or that left the window).
  DuckDB deletes them. Spark's Parquet tables refuse DELETE: there each as-of model is partitioned by day
  (as_of_partition) and the stale days' partitions are dropped.
-#}
{% macro prune_stale_days() -%}
{{ return(adapter.dispatch('prune_stale_days', 'vitrine')()) }}
{%- endmacro %}

{% macro default__prune_stale_days() -%}
{%- if is_incremental() -%}
delete from {{ this }}
where not exists (
    select 1
    from {{ ref('int_scoring_days') }} as d
    where d.scored_for = {{ this }}.scored_for and d.inputs_key = {{ this }}.inputs_key
)
{%- endif -%}
{%- endmacro %}

{% macro spark__prune_stale_days() -%}
{%- if is_incremental() and execute -%}
{%- set stale = run_query(
    "select distinct cast(t.scored_for as string) from " ~ this ~ " as t left anti join " ~ ref('int_scoring_days')
    ~ " as d on d.scored_for = t.scored_for and d.inputs_key = t.inputs_key order by 1"
).columns[0].values() -%}
{%- if stale -%}
alter table {{ this }} drop if exists
{%- for day in stale %} partition (scored_for = date '{{ day }}'){{ ',' if not loop.last }}{% endfor %}
{%- endif -%}
{%- endif -%}
{%- endmacro %}


{#- The as-of models' partitioning: by day on Spark, so that a stale day is a partition to drop; none elsewhere. -#}
{% macro as_of_partition() -%}
{{ return(adapter.dispatch('as_of_partition', 'vitrine')()) }}
{%- endmacro %}

{% macro default__as_of_partition() -%}
{{ return(none) }}
{%- endmacro %}

{% macro spark__as_of_partition() -%}
{{ return(['scored_for']) }}
{%- endmacro %}


{#-
  md5 of the code of the as-of models and of every model they read, directly or not (staging included), and of
  the values of the vars that code names: a change to any of them makes every day's rows stale. Empty at parse time.
-#}
{% macro as_of_code_key() -%}
{%- if not execute -%}
{{ return('') }}
{%- endif -%}
{%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list -%}
{%- set wanted = [] -%}
{%- for node in models if 'as_of_day' in node.tags -%}
{%- do wanted.append(node.unique_id) -%}
{%- endfor -%}
{#- their ancestors: the model graph is a few levels deep, each pass adds one level -#}
{%- for _ in range(12) -%}
{%- for node in models if node.unique_id in wanted -%}
{%- for parent in node.depends_on.nodes if parent.startswith('model.') and parent not in wanted -%}
{%- do wanted.append(parent) -%}
{%- endfor -%}
{%- endfor -%}
{%- endfor -%}
{%- set parts = [] -%}
{%- for node in models | sort(attribute='unique_id') if node.unique_id in wanted -%}
{%- do parts.append(node.unique_id ~ '\n' ~ node.raw_code) -%}
{#- run_date moves every night: what it decides for a day is the day's role, which inputs_key holds -#}
{%- for name in modules.re.findall("var[(]\\s*['\"](\\w+)['\"]", node.raw_code) | unique | sort if name != 'run_date' -%}
{%- do parts.append(name ~ '=' ~ tojson(var(name, none))) -%}
{%- endfor -%}
{%- endfor -%}
{{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}
