{{ config(tags=['images']) }}
{#-
  Public. The top 5 labels of each catalogue image with their probabilities, for every model version that labelled
  the image's current content; is_current marks tonight's version. See int_image_labels.
-#}
select image_id, model_version, rank, label, probability, content_hash, is_current
from {{ ref('int_image_labels') }}
