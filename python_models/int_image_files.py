"""Every catalogue image's file: its content hash and size, or why it cannot be read. See vitrine.vision.warehouse."""


def model(dbt, session):
    dbt.config(materialized="table")
    from vitrine.vision.warehouse import LabellingConfig, image_files

    images = dbt.ref("stg_sale_images").df()[["image_id", "image_path"]]
    return image_files(images, LabellingConfig.from_dbt_config(dbt.config.get))
