-- One row per conversation that has live messages, either vendor.

with messages as (

    select * from {{ ref('messages') }}

),

per_conversation as (

    select
        vendor,
        conversation_id,
        min(sent_at) as first_message_at,
        max(sent_at) as last_message_at,
        count(*) as messages,
        sum(case when direction = 'inbound' then 1 else 0 end) as inbound_messages,
        sum(case when direction = 'outbound' then 1 else 0 end) as outbound_messages,
        min(case when direction = 'inbound' then sent_at end) as first_inbound_at
    from messages
    group by vendor, conversation_id

),

first_responses as (

    -- The first outbound message sent at or after the first inbound one.
    select
        per_conversation.vendor,
        per_conversation.conversation_id,
        min(messages.sent_at) as first_response_at
    from per_conversation
    inner join messages
        on messages.vendor = per_conversation.vendor
        and messages.conversation_id = per_conversation.conversation_id
        and messages.direction = 'outbound'
        and messages.sent_at >= per_conversation.first_inbound_at
    group by per_conversation.vendor, per_conversation.conversation_id

),

message_parties as (

    -- Where a conversation happens and with whom, as its messages say: Convotic has nothing
    -- else (the contact is the sender of inbound messages); for Cekat it stands in until the
    -- conversation's own record is loaded (the directory tables load daily).
    select
        'cekat' as vendor,
        conversation_id,
        message_id,
        sent_at,
        inbox_type as channel,
        inbox_id,
        contact_id
    from {{ ref('stg_cekat_messages') }}
    where deleted_at is null

    union all

    select
        'convotic' as vendor,
        conversation_id,
        message_id,
        sent_at,
        platform as channel,
        cast(null as {{ dbt.type_string() }}) as inbox_id,
        case when direction = 'inbound' then sender_id end as contact_id
    from {{ ref('stg_convotic_messages') }}
    where deleted_at is null

),

latest_parties as (

    -- The latest message that names the contact, else the latest message.
    select
        vendor,
        conversation_id,
        channel,
        inbox_id,
        contact_id,
        row_number() over (
            partition by vendor, conversation_id
            order by
                case when contact_id is null then 1 else 0 end,
                sent_at desc nulls last,
                message_id desc
        ) as recency
    from message_parties

),

cekat_conversations as (

    select * from {{ ref('stg_cekat_conversations') }}
    where deleted_at is null

)

select
    per_conversation.vendor,
    per_conversation.conversation_id,
    coalesce(cekat_conversations.platform_type, latest_parties.channel) as channel,
    coalesce(cekat_conversations.inbox_id, latest_parties.inbox_id) as inbox_id,
    coalesce(cekat_conversations.contact_id, latest_parties.contact_id) as contact_id,
    per_conversation.first_message_at,
    per_conversation.last_message_at,
    cast(per_conversation.messages as {{ dbt.type_bigint() }}) as messages,
    cast(per_conversation.inbound_messages as {{ dbt.type_bigint() }}) as inbound_messages,
    cast(per_conversation.outbound_messages as {{ dbt.type_bigint() }}) as outbound_messages,
    cast(
        {{ dbt.datediff('per_conversation.first_inbound_at', 'first_responses.first_response_at', 'second') }}
        as {{ dbt.type_bigint() }}
    ) as first_response_seconds,
    cekat_conversations.resolved_at,
    cast(
        {{ dbt.datediff('cekat_conversations.created_at', 'cekat_conversations.resolved_at', 'second') }}
        as {{ dbt.type_bigint() }}
    ) as resolution_seconds
from per_conversation
left join first_responses
    on first_responses.vendor = per_conversation.vendor
    and first_responses.conversation_id = per_conversation.conversation_id
left join latest_parties
    on latest_parties.vendor = per_conversation.vendor
    and latest_parties.conversation_id = per_conversation.conversation_id
    and latest_parties.recency = 1
left join cekat_conversations
    on per_conversation.vendor = 'cekat'
    and cekat_conversations.conversation_id = per_conversation.conversation_id
