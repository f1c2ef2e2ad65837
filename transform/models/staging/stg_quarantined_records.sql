{%- set raw = tap_messages.raw_table(source('tap_messages', 'quarantined_records'), {
    'stream': 'string',
    'record_key': 'string',
    'errors': 'array',
    'record': 'json',
    'quarantined_at': 'timestamp',
    '_sdc_batched_at': 'timestamp',
    '_sdc_deleted_at': 'timestamp',
}) -%}
{%- set c = raw.columns -%}

with source as (

    select * from {{ raw.relation }}

),

renamed as (

    select
        cast({{ c['stream'] }} as {{ dbt.type_string() }}) as stream,
        cast({{ c['record_key'] }} as {{ dbt.type_string() }}) as record_key,
        {{ tap_messages.array_size(c['errors']) }} as error_count,
        {{ tap_messages.array_as_json_text(c['errors']) }} as errors_json,
        cast({{ c['record'] }} as {{ dbt.type_string() }}) as record_json,
        cast({{ c['quarantined_at'] }} as {{ dbt.type_timestamp() }}) as quarantined_at,
        cast({{ c['_sdc_batched_at'] }} as {{ dbt.type_timestamp() }}) as loaded_at,
        cast({{ c['_sdc_deleted_at'] }} as {{ dbt.type_timestamp() }}) as deleted_at
    from source

)

select * from renamed
