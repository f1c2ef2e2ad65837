-- One row per live message of either vendor: the columns product.md names, nothing else.

with cekat as (

    select
        'cekat' as vendor,
        conversation_id,
        message_id,
        sent_at,
        case sender_type
            when 'user' then 'inbound'
            when 'agent' then 'outbound'
            when 'system' then 'system'
        end as direction,
        sender_id,
        sender_name,
        media_type as content_type,
        message_text as text,
        inbox_type as channel,
        status
    from {{ ref('stg_cekat_messages') }}
    where deleted_at is null

),

convotic as (

    select
        'convotic' as vendor,
        conversation_id,
        message_id,
        sent_at,
        case direction
            when 'inbound' then 'inbound'
            when 'outbound' then 'outbound'
        end as direction,
        sender_id,
        sender_name,
        content_type,
        coalesce(content_text, content_caption) as text,
        platform as channel,
        cast(null as {{ dbt.type_string() }}) as status
    from {{ ref('stg_convotic_messages') }}
    where deleted_at is null

),

unioned as (

    select * from cekat
    union all
    select * from convotic

)

select
    cast(vendor as {{ dbt.type_string() }}) as vendor,
    conversation_id,
    message_id,
    sent_at,
    cast(direction as {{ dbt.type_string() }}) as direction,
    sender_id,
    sender_name,
    content_type,
    text,
    channel,
    status
from unioned
