{#-
    Reading the loaders' JSON. target-postgres stores objects as jsonb and arrays as PostgreSQL
    arrays (jsonb[], text[]); target-duckdb stores both as JSON text (DuckDB's JSON type).
-#}

{#- One top-level field of a JSON object, as text (null when absent or JSON null). -#}
{% macro json_text(column, field) %}
    {{- return(adapter.dispatch('json_text', 'tap_messages')(column, field)) -}}
{% endmacro %}

{% macro default__json_text(column, field) -%}
    ({{ column }} ->> '{{ field }}')
{%- endmacro %}

{% macro duckdb__json_text(column, field) -%}
    json_extract_string({{ column }}, '$.{{ field }}')
{%- endmacro %}


{#- An array column as JSON text (`["a", "b"]`), the same on both warehouses. -#}
{% macro array_as_json_text(column) %}
    {{- return(adapter.dispatch('array_as_json_text', 'tap_messages')(column)) -}}
{% endmacro %}

{% macro default__array_as_json_text(column) -%}
    cast(array_to_json({{ column }}) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__array_as_json_text(column) -%}
    cast({{ column }} as {{ dbt.type_string() }})
{%- endmacro %}


{#- The number of elements of an array column (null when the column is null). -#}
{% macro array_size(column) %}
    {{- return(adapter.dispatch('array_size', 'tap_messages')(column)) -}}
{% endmacro %}

{% macro default__array_size(column) -%}
    cardinality({{ column }})
{%- endmacro %}

{% macro duckdb__array_size(column) -%}
    cast(json_array_length({{ column }}) as integer)
{%- endmacro %}
