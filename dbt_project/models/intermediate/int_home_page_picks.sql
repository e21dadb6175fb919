{#-
  Tonight's 10 best candidates of each active customer by the meta model's P(purchase), ranked 1 to 10 (ties to
  the smaller sale_id): the rows home_page_rankings explains. A table of its own: the ranking rules are tested
  apart from the explanations, and the explanation's join to the 1 M-customer night's feature rows hashes the
  8 M picks, not the features. The top 10 is top_n's row_number() window: ranked_top_n's bounded min_by was 4x
  faster run alone, but in the night's build, beside int_evaluation_ranks under the same 5 GB limit, it spilled
  until the disk was full (over 30 GB), where the window spills in bounded sorted runs.
  The model version is the night's served one.
-#}
with tonight as (
    select s.scored_for, s.user_id, s.sale_id, s.meta_score
    from {{ ref('int_meta_scores') }} as s
    inner join {{ ref('int_scoring_days') }} as d
        on d.scored_for = s.scored_for
    where d.is_nightly and s.is_candidate
)

select best.scored_for, best.user_id, best.rank, best.sale_id, best.meta_score, served.model_version
from {{ top_n('tonight', ['scored_for', 'user_id'], 'sale_id', 'meta_score', 10,
              carry=['meta_score'], rank_as='rank') }} as best
cross join (
    select max(model_version) as model_version from {{ ref('int_meta_served') }} where slot = 'served'
) as served
