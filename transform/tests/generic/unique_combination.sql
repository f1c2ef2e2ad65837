{#-
    The given columns are unique together (a composite key), without dbt packages:
      data_tests:
        - unique_combination:
            arguments: {columns: [vendor, conversation_id, message_id]}
    Rows whose key holds a null are left to the columns' not_null tests.
-#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as rows_with_this_key
from {{ model }}
where {% for column in columns %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
