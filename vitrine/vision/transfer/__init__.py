"""Transfer learning on the vision backbones: train a classifier head, evaluate it, label with it, distil labels.

Modules:

- :mod:`~vitrine.vision.transfer.datasets`: class folders / ``image,labels`` CSV -> :class:`LabelledImages`,
  reproducible stratified splits (:class:`SplitSpec`)
- :mod:`~vitrine.vision.transfer.features`: backbone embeddings, cached by content hash (:class:`EmbeddingCache`)
- :mod:`~vitrine.vision.transfer.head`: :func:`train_head` -> a model folder, :class:`HeadLabeller` (labels images
  like ``label_images``), :func:`read_head_info` / :func:`head_model_version` (no Keras import)
- :mod:`~vitrine.vision.transfer.evaluation`: :func:`evaluate_head` -> :class:`EvalReport`
- :mod:`~vitrine.vision.transfer.distill`: scikit-learn label distillation (:func:`train_distilled`)

CLI mapping: ``vitrine transfer train --photos DIR --out MODEL [--backbone NAME] [--split all|train]`` ->
``train_head(DIR, MODEL, backbone=NAME, split=...)``; ``vitrine transfer evaluate --photos DIR --model MODEL
[--split train|test] [--json]`` -> ``evaluate_head(DIR, MODEL, split=...)`` then ``.to_dict()`` or ``.format()``.

Importing this package does not import Keras; training, evaluating and loading a head do.
"""

from vitrine.vision.transfer.datasets import (
    DatasetError,
    LabelledImages,
    SplitSpec,
    read_dataset,
    split_dataset,
    stratified_split,
)
from vitrine.vision.transfer.distill import DistillationAgreement, DistilledLabeller, agreement, train_distilled
from vitrine.vision.transfer.evaluation import EvalReport, evaluate_head, score_predictions
from vitrine.vision.transfer.features import EmbeddingCache, Features, embed_images
from vitrine.vision.transfer.head import (
    HeadError,
    HeadInfo,
    HeadLabeller,
    HeadParams,
    TrainReport,
    build_head,
    head_model_version,
    read_head_info,
    train_head,
)

__all__ = [
    "DatasetError",
    "DistillationAgreement",
    "DistilledLabeller",
    "EmbeddingCache",
    "EvalReport",
    "Features",
    "HeadError",
    "HeadInfo",
    "HeadLabeller",
    "HeadParams",
    "LabelledImages",
    "SplitSpec",
    "TrainReport",
    "agreement",
    "build_head",
    "embed_images",
    "evaluate_head",
    "head_model_version",
    "read_dataset",
    "read_head_info",
    "score_predictions",
    "split_dataset",
    "stratified_split",
    "train_distilled",
    "train_head",
]
