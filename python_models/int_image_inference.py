"""The labelling model's output per image content and model version, computed only for contents not labelled yet.

Incremental: a night labels the new or changed files (new content hashes) and, when the model changes (another
backbone, weights or trained head: dbt var image_head), everything once more under the new model_version.
See vitrine.vision.warehouse.label_new_content.
"""


def model(dbt, session):
    dbt.config(materialized="incremental")
    from vitrine.vision.warehouse import LabellingConfig, label_new_content, stored_embeddings

    # dbt hands a Python model only the config keys that its code reads with literal dbt.config.get("...") calls.
    settings = {
        "image_backbone": dbt.config.get("image_backbone"),
        "image_weights": dbt.config.get("image_weights"),
        "image_class_list": dbt.config.get("image_class_list"),
        "image_head": dbt.config.get("image_head"),
        "image_batch_size": dbt.config.get("image_batch_size"),
    }
    files = dbt.ref("int_image_files").df()
    done = session.sql(f"select content_hash, model_version from {dbt.this}").df() if dbt.is_incremental else None
    stored = stored_embeddings(session, str(dbt.this)) if dbt.is_incremental else None
    return label_new_content(files, done, LabellingConfig.from_dbt_config(settings.get), stored=stored)
