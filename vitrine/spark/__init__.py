"""Vitrine on Apache Spark: the same dbt project, its Python steps and the nightly flow (docs/spark.md)."""

import warnings

# PySpark 3.5 predates pandas 3 and Python 3.12's removal of distutils: its own calls warn on every conversion
# (Pandas4Warning, DeprecationWarning). Not ours to fix, and they would flood the night's log.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pyspark\.")
try:
    from pandas.errors import Pandas4Warning

    warnings.filterwarnings("ignore", category=Pandas4Warning, module=r"pyspark\.")
except ImportError:  # pandas < 3
    pass
