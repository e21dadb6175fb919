{#- One row per customer: the latest version. -#}
with latest as (
    {{ latest_version(source('raw', 'users'), 'user_id', ['user_id', 'signed_up_on', 'home_country']) }}
)

select
    user_id,
    signed_up_on,
    upper(home_country) as home_country
from latest
