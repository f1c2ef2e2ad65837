{%- set raw = tap_messages.raw_table(source('tap_messages', 'cekat_conversations'), {
    'id': 'string',
    'inbox_id': 'string',
    'inbox_name': 'string',
    'contact_id': 'string',
    'contact_name': 'string',
    'contact_phone': 'string',
    'platform_type': 'string',
    'stage_status': 'string',
    'handled_by_id': 'string',
    'handled_by_name': 'string',
    'notes': 'string',
    'labels': 'array',
    'first_message': 'json',
    'last_message': 'json',
    'created_at': 'timestamp',
    'resolved_at': 'timestamp',
    'resolved_by_id': 'string',
    'resolved_by_name': 'string',
    '_sdc_batched_at': 'timestamp',
    '_sdc_deleted_at': 'timestamp',
}) -%}
{%- set c = raw.columns -%}

with source as (

    select * from {{ raw.relation }}

),

renamed as (

    select
        cast({{ c['id'] }} as {{ dbt.type_string() }}) as conversation_id,
        cast({{ c['inbox_id'] }} as {{ dbt.type_string() }}) as inbox_id,
        cast({{ c['inbox_name'] }} as {{ dbt.type_string() }}) as inbox_name,
        cast({{ c['contact_id'] }} as {{ dbt.type_string() }}) as contact_id,
        cast({{ c['contact_name'] }} as {{ dbt.type_string() }}) as contact_name,
        cast({{ c['contact_phone'] }} as {{ dbt.type_string() }}) as contact_phone,
        cast({{ c['platform_type'] }} as {{ dbt.type_string() }}) as platform_type,
        cast({{ c['stage_status'] }} as {{ dbt.type_string() }}) as stage_status,
        cast({{ c['handled_by_id'] }} as {{ dbt.type_string() }}) as handled_by_id,
        cast({{ c['handled_by_name'] }} as {{ dbt.type_string() }}) as handled_by_name,
        cast({{ c['notes'] }} as {{ dbt.type_string() }}) as notes,
        {{ tap_messages.array_as_json_text(c['labels']) }} as labels_json,
        cast({{ tap_messages.json_text(c['first_message'], 'message') }} as {{ dbt.type_string() }}) as first_message_text,
        cast({{ tap_messages.json_text(c['last_message'], 'message') }} as {{ dbt.type_string() }}) as last_message_text,
        -- Sent as text inside the object, UTC with an explicit +00:00.
        cast({{ tap_messages.json_text(c['last_message'], 'created_at') }} as {{ dbt.type_timestamp() }}) as last_message_at,
        cast({{ c['created_at'] }} as {{ dbt.type_timestamp() }}) as created_at,
        cast({{ c['resolved_at'] }} as {{ dbt.type_timestamp() }}) as resolved_at,
        cast({{ c['resolved_by_id'] }} as {{ dbt.type_string() }}) as resolved_by_id,
        cast({{ c['resolved_by_name'] }} as {{ dbt.type_string() }}) as resolved_by_name,
        cast({{ c['_sdc_batched_at'] }} as {{ dbt.type_timestamp() }}) as loaded_at,
        cast({{ c['_sdc_deleted_at'] }} as {{ dbt.type_timestamp() }}) as deleted_at
    from source

)

select * from renamed
