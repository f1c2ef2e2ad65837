{%- set raw = tap_messages.raw_table(source('tap_messages', 'convotic_messages'), {
    'conversationId': 'string',
    'id': 'string',
    'platform': 'string',
    'direction': 'string',
    'sender': 'json',
    'content': 'json',
    'timestamp': 'timestamp',
    '_sdc_batched_at': 'timestamp',
    '_sdc_deleted_at': 'timestamp',
}) -%}
{%- set c = raw.columns -%}

with source as (

    select * from {{ raw.relation }}

),

renamed as (

    select
        cast({{ c['conversationId'] }} as {{ dbt.type_string() }}) as conversation_id,
        cast({{ c['id'] }} as {{ dbt.type_string() }}) as message_id,
        cast({{ c['platform'] }} as {{ dbt.type_string() }}) as platform,
        cast({{ c['direction'] }} as {{ dbt.type_string() }}) as direction,
        cast({{ tap_messages.json_text(c['sender'], 'id') }} as {{ dbt.type_string() }}) as sender_id,
        cast({{ tap_messages.json_text(c['sender'], 'name') }} as {{ dbt.type_string() }}) as sender_name,
        cast({{ tap_messages.json_text(c['content'], 'type') }} as {{ dbt.type_string() }}) as content_type,
        cast(nullif({{ tap_messages.json_text(c['content'], 'text') }}, '') as {{ dbt.type_string() }}) as content_text,
        cast(nullif({{ tap_messages.json_text(c['content'], 'caption') }}, '') as {{ dbt.type_string() }}) as content_caption,
        cast({{ tap_messages.json_text(c['content'], 'url') }} as {{ dbt.type_string() }}) as content_url,
        cast({{ c['timestamp'] }} as {{ dbt.type_timestamp() }}) as sent_at,
        cast({{ c['_sdc_batched_at'] }} as {{ dbt.type_timestamp() }}) as loaded_at,
        cast({{ c['_sdc_deleted_at'] }} as {{ dbt.type_timestamp() }}) as deleted_at
    from source

)

select * from renamed
