{#-
  int_daily_visits is incremental: a build recounts the (customer, sale, day) that the visits of newer batches
  touch. Its counts must add up to stg_visits' rows; a visit staged another way (a full refresh of stg_visits
  alone) would otherwise be missing from every window. Rows returned (a failure): the two totals when they differ.
-#}
select d.counted, v.staged
from (select coalesce(sum(visits), 0) as counted from {{ ref('int_daily_visits') }}) as d
cross join (select count(*) as staged from {{ ref('stg_visits') }}) as v
where d.counted <> v.staged
