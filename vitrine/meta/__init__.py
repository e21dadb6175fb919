"""The meta model: a regularised logistic regression over every recommender's score and the context signals.

- train:     the time-based choice of the regularisation, the fit, the model's version
- warehouse: the dbt side (long-form coefficient rows that the SQL scoring reads)
"""

from vitrine.meta.train import MetaFit, TrainingError, split_by_time, train_meta_model

__all__ = ["MetaFit", "TrainingError", "split_by_time", "train_meta_model"]
