{#-
  Content profile of every sale in long form: one row per (sale, family, feature) with a weight, L2-normalised
  within each (sale, family). A family is one kind of content, scored separately so the meta model can weigh it:
    text         the top text_terms_per_sale words of title + description by TF-IDF
    destination  country and city
    price        the price band (seed price_bands)
    image        the themes of the sale's photos (int_sale_themes: NMF on the CNN's labels), in %
  Adding a family is adding rows to `families` below, not columns. Each (family, feature) also gets an integer
  feature_id, the key the customer profiles and the scoring use.
-#}
with sales as (
    select
        sale_id,
        coalesce(title, '') || ' ' || coalesce(description, '') as sale_text,
        destination_city,
        destination_country,
        price_eur
    from {{ ref('stg_sales') }}
),

words as (
    select w.sale_id, w.term
    from {{ words_of('sales', 'sale_text', ['sale_id']) }} as w
    left join {{ ref('text_stopwords') }} as stop
        on stop.term = w.term
    where {{ dbt.length('w.term') }} >= 3
        and stop.term is null
),

term_counts as (
    select sale_id, term, count(*) as occurrences
    from words
    group by sale_id, term
),

sale_lengths as (
    select sale_id, sum(occurrences) as words_in_sale
    from term_counts
    group by sale_id
),

document_frequency as (
    select term, count(*) as sales_with_term
    from term_counts
    group by term
),

catalogue as (
    select count(*) as n_sales from sales
),

tf_idf as (
    select
        tc.sale_id,
        tc.term,
        (cast(tc.occurrences as double) / sl.words_in_sale)
            * ln(cast(c.n_sales as double) / df.sales_with_term) as weight,
        row_number() over (
            partition by tc.sale_id
            order by (cast(tc.occurrences as double) / sl.words_in_sale)
                * ln(cast(c.n_sales as double) / df.sales_with_term) desc, tc.term
        ) as term_rank
    from term_counts as tc
    inner join sale_lengths as sl on sl.sale_id = tc.sale_id
    inner join document_frequency as df on df.term = tc.term
    cross join catalogue as c
),

families as (
    select sale_id, 'text' as family, term as feature, weight
    from tf_idf
    where term_rank <= {{ var('text_terms_per_sale') }}
        and weight > 0

    union all

    select sale_id, 'destination' as family, 'country:' || lower(destination_country) as feature, 1.0 as weight
    from sales
    where destination_country is not null

    union all

    select sale_id, 'destination' as family, 'city:' || lower(destination_city) as feature, 1.0 as weight
    from sales
    where destination_city is not null

    union all

    select s.sale_id, 'price' as family, 'band:' || b.price_band as feature, 1.0 as weight
    from sales as s
    inner join {{ ref('price_bands') }} as b
        on s.price_eur >= b.min_price_eur
        and s.price_eur < b.max_price_eur

    union all

    select sale_id, 'image' as family, 'theme:' || cast(theme_id as {{ dbt.type_string() }}) as feature,
        score_pct as weight
    from {{ ref('int_sale_themes') }}
    where score_pct > 0
)

select
    sale_id,
    family,
    feature,
    -- the feature as an integer (dictionary encoding, ordered like (family, feature)): customer profiles and the
    -- scoring join and group on it instead of the string
    dense_rank() over (order by family, feature) as feature_id,
    weight / sqrt(sum(weight * weight) over (partition by sale_id, family)) as value
from families
