"""Each image's theme scores in %: W for fixed H, each row scaled to sum to 100."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import non_negative_factorization

from vitrine.themes.fit import MAX_ITER, TOL, Themes
from vitrine.themes.matrix import TagMatrix

# an image's theme below this share (in %) is not stored; the others are rescaled to sum to 100
MIN_SHARE_PCT = 0.5


def image_theme_shares(x: TagMatrix, themes: Themes, w: np.ndarray | None = None) -> pd.DataFrame:
    """Rows (image_id, theme_id, score_pct); an image's scores sum to 100, an image no theme explains has none.

    W is the fit's own when given; otherwise it is solved for the fixed H (non-negative least squares), which is
    how images that arrived after the fit get their themes.
    """
    columns = ["image_id", "theme_id", "score_pct"]
    if len(themes) == 0 or x.shape[0] == 0:
        return pd.DataFrame(columns=columns)
    if w is None:
        h = themes.aligned_to(x.tags)
        w, _, _ = non_negative_factorization(
            x.values, H=h, n_components=len(themes), init="custom", update_H=False, max_iter=MAX_ITER, tol=TOL,
        )
    shares = _percent(w)
    shares[shares < MIN_SHARE_PCT] = 0.0
    shares = _percent(shares)
    image_index, theme_index = np.nonzero(shares)
    return pd.DataFrame({
        "image_id": x.image_ids[image_index],
        "theme_id": np.asarray(themes.ids, dtype=np.int64)[theme_index],
        "score_pct": np.round(shares[image_index, theme_index], 6),
    })


def _percent(w: np.ndarray) -> np.ndarray:
    totals = w.sum(axis=1, keepdims=True)
    out = np.zeros_like(w, dtype=np.float64)
    np.divide(100.0 * w, totals, out=out, where=totals > 0)
    return out
