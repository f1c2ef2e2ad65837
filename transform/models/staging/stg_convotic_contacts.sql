{%- set raw = tap_messages.raw_table(source('tap_messages', 'convotic_contacts'), {
    'id': 'string',
    'name': 'string',
    'platform': 'string',
    'platformUserId': 'string',
    'avatarUrl': 'string',
    'lastMessageAt': 'timestamp',
    'createdAt': 'timestamp',
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
        cast({{ c['name'] }} as {{ dbt.type_string() }}) as contact_name,
        cast({{ c['platform'] }} as {{ dbt.type_string() }}) as platform,
        cast({{ c['platformUserId'] }} as {{ dbt.type_string() }}) as platform_user_id,
        cast({{ c['avatarUrl'] }} as {{ dbt.type_string() }}) as avatar_url,
        cast({{ c['lastMessageAt'] }} as {{ dbt.type_timestamp() }}) as last_message_at,
        cast({{ c['createdAt'] }} as {{ dbt.type_timestamp() }}) as created_at,
        cast({{ c['_sdc_batched_at'] }} as {{ dbt.type_timestamp() }}) as loaded_at,
        cast({{ c['_sdc_deleted_at'] }} as {{ dbt.type_timestamp() }}) as deleted_at
    from source

)

select * from renamed
