{#-
  Which label source a labelling model version is: 'scene_head' for a trained head (its version is the backbone's
  followed by "+head-" and the hash of the head file, see vitrine.vision.transfer.head), 'pretrained' for the
  backbone's own classifier. The one place the marts tell the two apart.
-#}
{% macro label_source(model_version) -%}
    case when {{ model_version }} like '%+head-%' then 'scene_head' else 'pretrained' end
{%- endmacro %}
