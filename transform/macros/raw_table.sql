{#-
    A raw table as the staging models read it, whichever loader wrote it and whenever.

    `raw_table(source('tap_messages', 'convotic_messages'), {'conversationId': 'string', ...})`
    returns {'relation': ..., 'columns': {name: SQL expression}}:
    - each column is the table's own column matched without regard to case (target-postgres keeps
      "conversationId", target-duckdb writes conversationid), quoted for the adapter;
    - a column the table lacks (target-duckdb writes no _sdc_* columns) is a typed null;
    - a table not loaded yet (the hourly job reads only the messages; a vendor without a key is
      skipped) is an empty subquery, so that every model builds, empty, instead of failing.
    Types: string, timestamp, boolean, number, json (an object), array.
-#}
{% macro raw_table(relation, columns) %}
    {%- set found = {} -%}
    {%- set existing = none -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
        {%- if existing is none -%}
            {{ log("tap_messages: " ~ relation ~ " is not loaded yet; " ~ model.name ~ " is empty", info=true) }}
        {%- else -%}
            {%- for column in adapter.get_columns_in_relation(existing) -%}
                {%- do found.update({column.name | lower: adapter.quote(column.name)}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- set expressions = {} -%}
    {%- for name, kind in columns.items() -%}
        {%- if name | lower in found -%}
            {%- do expressions.update({name: found[name | lower]}) -%}
        {%- else -%}
            {%- do expressions.update({name: "cast(null as " ~ tap_messages.raw_type(kind) ~ ")"}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if existing is none -%}
        {%- set from_clause = "(select 1 as no_rows where 1 = 0) as not_loaded" -%}
    {%- else -%}
        {%- set from_clause = existing -%}
    {%- endif -%}
    {{ return({'relation': from_clause, 'columns': expressions}) }}
{% endmacro %}


{#- The SQL type of a missing column, as the loaders create it. -#}
{% macro raw_type(kind) %}
    {{ return(adapter.dispatch('raw_type', 'tap_messages')(kind)) }}
{% endmacro %}

{% macro default__raw_type(kind) %}
    {%- set types = {
        'string': dbt.type_string(),
        'timestamp': dbt.type_timestamp(),
        'boolean': dbt.type_boolean(),
        'number': dbt.type_float(),
        'json': 'jsonb',
        'array': 'text[]',
    } -%}
    {{ return(types[kind]) }}
{% endmacro %}

{% macro duckdb__raw_type(kind) %}
    {%- set types = {
        'string': dbt.type_string(),
        'timestamp': dbt.type_timestamp(),
        'boolean': dbt.type_boolean(),
        'number': dbt.type_float(),
        'json': 'json',
        'array': 'json',
    } -%}
    {{ return(types[kind]) }}
{% endmacro %}
