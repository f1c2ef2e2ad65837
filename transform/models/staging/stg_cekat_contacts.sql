{%- set raw = tap_messages.raw_table(source('tap_messages', 'cekat_contacts'), {
    'id': 'string',
    'display_name': 'string',
    'phone_number': 'string',
    'type': 'string',
    'inbox_id': 'string',
    'created_at': 'timestamp',
    '_sdc_batched_at': 'timestamp',
    '_sdc_deleted_at': 'timestamp',
}) -%}
{%- set c = raw.columns -%}

with source as (

    select * from {{ raw.relation }}

),

renamed as (

    select
        cast({{ c['id'] }} as {{ dbt.type_string() }}) as contact_id,
        cast({{ c['display_name'] }} as {{ dbt.type_string() }}) as contact_name,
        cast({{ c['phone_number'] }} as {{ dbt.type_string() }}) as phone_number,
        cast({{ c['type'] }} as {{ dbt.type_string() }}) as channel,
        cast({{ c['inbox_id'] }} as {{ dbt.type_string() }}) as inbox_id,
        cast({{ c['created_at'] }} as {{ dbt.type_timestamp() }}) as created_at,
        cast({{ c['_sdc_batched_at'] }} as {{ dbt.type_timestamp() }}) as loaded_at,
        cast({{ c['_sdc_deleted_at'] }} as {{ dbt.type_timestamp() }}) as deleted_at
    from source

)

select * from renamed
