{%- set raw = tap_messages.raw_table(source('tap_messages', 'cekat_messages'), {
    'id': 'string',
    'conversation_id': 'string',
    'inbox_id': 'string',
    'message': 'string',
    'sent_by': 'string',
    'sent_by_name': 'string',
    'sent_by_type': 'string',
    'media_type': 'string',
    'media_url': 'string',
    'status': 'string',
    'is_template': 'boolean',
    'created_at': 'timestamp',
    'updated_at': 'timestamp',
    'additional_data': 'json',
    'contact': 'json',
    'inbox': 'json',
    'platform_mid': 'string',
    'business_id': 'string',
    'chat_credits_used': 'number',
    '_sdc_batched_at': 'timestamp',
    '_sdc_deleted_at': 'timestamp',
}) -%}
{%- set c = raw.columns -%}

with source as (

    select * from {{ raw.relation }}

),

renamed as (

    select
        cast({{ c['id'] }} as {{ dbt.type_string() }}) as message_id,
        cast({{ c['conversation_id'] }} as {{ dbt.type_string() }}) as conversation_id,
        -- The message's inbox; the raw inbox_id column is only the inbox_ids filter it was read under.
        cast(coalesce({{ tap_messages.json_text(c['inbox'], 'id') }}, {{ c['inbox_id'] }}) as {{ dbt.type_string() }}) as inbox_id,
        cast({{ tap_messages.json_text(c['inbox'], 'name') }} as {{ dbt.type_string() }}) as inbox_name,
        cast({{ tap_messages.json_text(c['inbox'], 'type') }} as {{ dbt.type_string() }}) as inbox_type,
        cast({{ tap_messages.json_text(c['contact'], 'id') }} as {{ dbt.type_string() }}) as contact_id,
        cast({{ tap_messages.json_text(c['contact'], 'display_name') }} as {{ dbt.type_string() }}) as contact_name,
        cast({{ tap_messages.json_text(c['contact'], 'phone_number') }} as {{ dbt.type_string() }}) as contact_phone_number,
        cast({{ c['sent_by'] }} as {{ dbt.type_string() }}) as sender_id,
        cast({{ c['sent_by_name'] }} as {{ dbt.type_string() }}) as sender_name,
        cast({{ c['sent_by_type'] }} as {{ dbt.type_string() }}) as sender_type,
        -- Media without a caption: PostgreSQL keeps '', target-duckdb loads null; both become null.
        cast(nullif({{ c['message'] }}, '') as {{ dbt.type_string() }}) as message_text,
        cast({{ c['media_type'] }} as {{ dbt.type_string() }}) as media_type,
        cast({{ c['media_url'] }} as {{ dbt.type_string() }}) as media_url,
        cast({{ c['status'] }} as {{ dbt.type_string() }}) as status,
        cast({{ c['is_template'] }} as {{ dbt.type_boolean() }}) as is_template,
        cast({{ tap_messages.json_text(c['additional_data'], 'is_private_note') }} as {{ dbt.type_boolean() }}) as is_private_note,
        cast({{ c['platform_mid'] }} as {{ dbt.type_string() }}) as platform_mid,
        cast({{ c['business_id'] }} as {{ dbt.type_string() }}) as business_id,
        cast({{ c['chat_credits_used'] }} as {{ dbt.type_float() }}) as chat_credits_used,
        cast({{ c['created_at'] }} as {{ dbt.type_timestamp() }}) as sent_at,
        cast({{ c['updated_at'] }} as {{ dbt.type_timestamp() }}) as updated_at,
        cast({{ c['_sdc_batched_at'] }} as {{ dbt.type_timestamp() }}) as loaded_at,
        cast({{ c['_sdc_deleted_at'] }} as {{ dbt.type_timestamp() }}) as deleted_at
    from source

)

select * from renamed
