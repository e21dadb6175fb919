"""The labelling model's output per image content and model version, computed only for contents not labelled yet.

Incremental: a night labels the new or changed files (new content hashes) and, when the model changes (another
backbone, weights or trained head: dbt var image_head), everything once more under the new model_version.
See vitrine.vision.warehouse.label_new_content; on Spark it runs on the executors, a batch of files per partition
(vitrine.spark.labelling).
"""


def model(dbt, session):
    dbt.config(materialized="incremental")
    from vitrine.frames import is_spark, to_pandas
    from vitrine.vision.warehouse import LabellingConfig, label_new_content, stored_embeddings

    # dbt hands a Python model only the config keys that its code reads with literal dbt.config.get("...") calls.
    settings = {
        "image_backbone": dbt.config.get("image_backbone"),
        "image_weights": dbt.config.get("image_weights"),
        "image_class_list": dbt.config.get("image_class_list"),
        "image_head": dbt.config.get("image_head"),
        "image_batch_size": dbt.config.get("image_batch_size"),
    }
    config = LabellingConfig.from_dbt_config(settings.get)
    done = to_pandas(session.sql(f"select content_hash, model_version from {dbt.this}")) if dbt.is_incremental else None
    stored = stored_embeddings(session, str(dbt.this)) if dbt.is_incremental else None
    if is_spark(session):
        from vitrine.spark.labelling import label_on_executors

        return label_on_executors(dbt.ref("int_image_files"), done, config, stored=stored)
    return label_new_content(to_pandas(dbt.ref("int_image_files")), done, config, stored=stored)
