{{ config(tags=['images']) }}
{#-
  Public. The top 5 labels of each catalogue image with their probabilities, for every model version that labelled
  the image's current content, by label source (pretrained classifier or trained scene head); is_current marks
  tonight's version of each source, is_tag tonight's tags. See int_image_labels.
-#}
select image_id, model_version, label_source, rank, label, probability, content_hash, is_current, is_tag
from {{ ref('int_image_labels') }}
