{#-
  The exclusion of the candidate rule, in one place: the sales each customer of `customers` (a relation with
  scored_for, user_id) bought before the day, as distinct rows (scored_for, user_id, sale_id). Such a sale is never
  a scored pair (int_candidates) nor a training negative (int_training_pairs).
-#}
{% macro bought_before(customers) -%}
    select distinct c.scored_for, c.user_id, p.sale_id
    from {{ customers }} as c
    inner join {{ ref('stg_purchases') }} as p
        on p.user_id = c.user_id
        and p.purchased_on < c.scored_for
{%- endmacro %}
