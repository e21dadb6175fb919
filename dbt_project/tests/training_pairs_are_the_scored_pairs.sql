{#-
  The training pairs are drawn (int_training_pairs) among the pairs the scorers make, before they score them; the
  scorers then write only those pairs on the training days that are not evaluation days. One rule stated twice: this
  test holds them together. Rows returned (a failure): a sampled negative that int_candidate_features did not score,
  or a scored pair of a training-only day that is not a training pair.
-#}
select 'negative not scored' as problem, t.scored_for, t.user_id, t.sale_id
from {{ ref('int_training_pairs') }} as t
left join {{ ref('int_candidate_features') }} as f
    on f.scored_for = t.scored_for and f.user_id = t.user_id and f.sale_id = t.sale_id
where t.label = 0 and f.sale_id is null

union all

select 'scored pair not a training pair' as problem, f.scored_for, f.user_id, f.sale_id
from {{ ref('int_candidate_features') }} as f
inner join {{ ref('int_scoring_days') }} as d
    on d.scored_for = f.scored_for
left join {{ ref('int_training_pairs') }} as t
    on t.scored_for = f.scored_for and t.user_id = f.user_id and t.sale_id = f.sale_id
where not d.is_nightly and not d.is_evaluation and t.sale_id is null
