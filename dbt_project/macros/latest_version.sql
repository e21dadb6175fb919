{#-
  The latest version of each entity in an append-only raw table: raw keeps every row ever accepted, with its
  ingest batch, file and line; a later batch (or a later file or line of the same batch) supersedes an earlier one.
  Portable SQL (a window in a subquery, no QUALIFY), so it also runs on Spark.
-#}
{% macro latest_version(relation, key, columns) %}
select {{ columns | join(', ') }}
from (
    select
        {{ columns | join(', ') }},
        row_number() over (partition by {{ key }} order by _batch_id desc, _source_file desc, _line desc) as version_rank
    from {{ relation }}
) as versions
where version_rank = 1
{% endmacro %}
