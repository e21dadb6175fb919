{{ config(materialized='view') }}
{#-
  The content-based recommenders' scores of every sale open on a scoring day for every customer with a profile that
  day, one row per (scoring day, customer, sale, recommender cb_<family>) with a score above 0: the cosine of the
  customer's and the sale's profiles in the family (macros/content_scores.sql). A view: it is every pair of the
  night, which int_recommender_ranks reads once into each recommender's top list without storing it;
  int_candidate_features scores only its pairs with the same macro.
-#}
{{ content_scores() }}
