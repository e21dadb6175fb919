{#-
  Public. Offline evaluation by time: each recommender alone and the meta models, per evaluation day, sales segment
  and target (int_evaluation_metrics computes the metrics).
-#}
select *
from {{ ref('int_evaluation_metrics') }}
