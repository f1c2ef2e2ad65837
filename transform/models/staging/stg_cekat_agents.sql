{%- set raw = tap_messages.raw_table(source('tap_messages', 'cekat_agents'), {
    'id': 'string',
    'name': 'string',
    'email': 'string',
    'role': 'string',
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
        cast({{ c['id'] }} as {{ dbt.type_string() }}) as agent_id,
        cast({{ c['name'] }} as {{ dbt.type_string() }}) as agent_name,
        cast({{ c['email'] }} as {{ dbt.type_string() }}) as email,
        cast({{ c['role'] }} as {{ dbt.type_string() }}) as role,
        cast({{ c['created_at'] }} as {{ dbt.type_timestamp() }}) as created_at,
        cast({{ c['_sdc_batched_at'] }} as {{ dbt.type_timestamp() }}) as loaded_at,
        cast({{ c['_sdc_deleted_at'] }} as {{ dbt.type_timestamp() }}) as deleted_at
    from source

)

select * from renamed
