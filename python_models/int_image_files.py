"""Every catalogue image's file: its content hash and size, or why it cannot be read. See vitrine.vision.warehouse."""


def model(dbt, session):
    dbt.config(materialized="table")
    from vitrine.frames import model_result, to_pandas
    from vitrine.vision.warehouse import LabellingConfig, image_files

    # dbt hands a Python model only the config keys that its code reads with literal dbt.config.get("...") calls.
    settings = {
        "image_backbone": dbt.config.get("image_backbone"),
        "image_weights": dbt.config.get("image_weights"),
        "image_class_list": dbt.config.get("image_class_list"),
        "image_head": dbt.config.get("image_head"),
    }
    images = to_pandas(dbt.ref("stg_sale_images"))[["image_id", "image_path"]]
    return model_result(image_files(images, LabellingConfig.from_dbt_config(settings.get)), session)
