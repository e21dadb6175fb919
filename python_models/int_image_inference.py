"""The CNN's output per image content and model version, computed only for contents not labelled yet.

Incremental: a night labels the new or changed files (new content hashes) and, when the model changes, everything
once more under the new model_version. See vitrine.vision.warehouse.label_new_content.
"""


def model(dbt, session):
    dbt.config(materialized="incremental")
    from vitrine.vision.warehouse import LabellingConfig, label_new_content

    files = dbt.ref("int_image_files").df()
    done = session.sql(f"select content_hash, model_version from {dbt.this}").df() if dbt.is_incremental else None
    return label_new_content(files, done, LabellingConfig.from_dbt_config(dbt.config.get))
