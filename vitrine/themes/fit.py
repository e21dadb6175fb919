"""NMF themes: X (image x tag) = W (image x theme) H (theme x tag), stable from one night to the next.

Stability has two parts. The fit is warm-started from the previous night's H (re-indexed to tonight's tags), so
a catalogue that changed by a few images converges to nearly the same themes; and tonight's themes are matched to
the previous ones by an optimal assignment on the cosine of their tag weights, so a theme keeps its id as long as
it is recognisably the same theme. A fit without a previous one is deterministic (NNDSVDA initialisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import NMF, non_negative_factorization

from vitrine.themes.matrix import TagMatrix
from vitrine.themes.naming import names_tags, theme_name

MAX_ITER = 500
TOL = 1e-4  # scikit-learn's default; 1e-5 took more iterations for the same reconstruction error
# a new theme inherits an old id when the cosine of their tag weights is at least this
MIN_MATCH_COSINE = 0.5
# tag weights below this share of a theme are dropped from the stored rows
MIN_TAG_WEIGHT = 1e-6


@dataclass(frozen=True)
class Themes:
    """k themes over a tag vocabulary: H's rows sum to 1 (a theme's tag weights as shares)."""

    ids: tuple[int, ...]
    names: tuple[str, ...]
    tags: tuple[str, ...]
    components: np.ndarray  # k x len(tags)

    def __len__(self) -> int:
        return len(self.ids)

    def top_tags(self, theme_index: int, n: int = 3) -> list[str]:
        row = self.components[theme_index]
        order = sorted(range(len(self.tags)), key=lambda j: (-row[j], self.tags[j]))
        return [self.tags[j] for j in order[:n] if row[j] > 0]

    def aligned_to(self, tags: tuple[str, ...]) -> np.ndarray:
        """H re-indexed to another tag vocabulary (tags it does not know weigh 0)."""
        position = {t: j for j, t in enumerate(self.tags)}
        out = np.zeros((len(self), len(tags)))
        for j, tag in enumerate(tags):
            if tag in position:
                out[:, j] = self.components[:, position[tag]]
        return out


def _normalise(w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale each theme so that its tag weights sum to 1 (and W's column by the inverse): WH is unchanged."""
    sums = h.sum(axis=1)
    sums[sums == 0] = 1.0
    return w * sums, h / sums[:, None]


def _warm_start(x: TagMatrix, previous: Themes, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    h0 = previous.aligned_to(x.tags)
    if len(previous) != k or (h0.sum(axis=1) == 0).any():
        return None  # another k, or a theme none of whose tags exist any more: fit afresh, match by assignment
    w0, _, _ = non_negative_factorization(
        x.values, H=h0, n_components=k, init="custom", update_H=False, max_iter=MAX_ITER, tol=TOL,
    )
    if (w0.sum(axis=0) == 0).any():
        return None
    return w0, h0


def fit_themes(x: TagMatrix, k: int, previous: Themes | None = None, seed: int = 0) -> tuple[Themes, np.ndarray]:
    """Fit k themes on X (fewer when X has fewer images or tags); returns the themes and W (image x theme).

    A theme is named by its top 3 tags; one that kept its id and the same 3 top tags keeps its name (their order
    may swap when two weights are close). The same X and the same previous themes give the same themes, ids and
    names.
    """
    if k < 1:
        raise ValueError(f"the number of themes must be at least 1, got {k}")
    n_images, n_tags = x.shape
    k = min(k, n_images, n_tags)
    if k == 0 or x.values.nnz == 0:
        return Themes(ids=(), names=(), tags=x.tags, components=np.zeros((0, n_tags))), np.zeros((n_images, 0))

    start = _warm_start(x, previous, k) if previous is not None and len(previous) else None
    if start is not None:
        model = NMF(n_components=k, init="custom", max_iter=MAX_ITER, tol=TOL)
        w = model.fit_transform(x.values, W=start[0].copy(order="C"), H=start[1].copy(order="C"))
    else:
        model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=MAX_ITER, tol=TOL)
        w = model.fit_transform(x.values)
    w, h = _normalise(w, model.components_)

    # themes that ended up empty (all-zero H row) carry no information: drop them
    keep = np.flatnonzero(h.sum(axis=1) > 0)
    w, h = w[:, keep], h[keep]
    size = w.sum(axis=0)
    order = sorted(range(len(keep)), key=lambda t: (-size[t], tuple(-h[t])))
    w, h = w[:, order], h[order]

    ids = _assign_ids(h, x.tags, previous)
    # a theme that kept its id and the same top 3 tags keeps its name, even if two of them swapped places
    kept_names: dict[int, tuple[frozenset[str], str]] = {}
    if previous is not None:
        for t, (theme_id, name) in enumerate(zip(previous.ids, previous.names, strict=True)):
            kept_names[theme_id] = (frozenset(previous.top_tags(t, 3)), name)
    taken: set[str] = set()
    names = []
    for t, theme_id in enumerate(ids):
        row = h[t]
        top = [x.tags[j] for j in sorted(range(len(x.tags)), key=lambda j: (-row[j], x.tags[j]))[:3] if row[j] > 0]
        before = kept_names.get(theme_id)
        if (before is not None and before[0] == frozenset(top) and before[1] not in taken
                and names_tags(before[1], top)):
            name = before[1]
        else:
            name = theme_name(top, taken)
        taken.add(name)
        names.append(name)
    themes = Themes(ids=tuple(ids), names=tuple(names), tags=x.tags, components=h)
    return themes, w


def _assign_ids(h: np.ndarray, tags: tuple[str, ...], previous: Themes | None) -> list[int]:
    """Ids for tonight's themes (ordered by size): a matched previous theme's id, else a new one."""
    k = h.shape[0]
    if previous is None or len(previous) == 0:
        return list(range(1, k + 1))
    old = previous.aligned_to(tags)
    similarity = _cosine(h, old)
    rows, cols = linear_sum_assignment(-similarity)
    ids: list[int | None] = [None] * k
    for r, c in zip(rows, cols, strict=True):
        if similarity[r, c] >= MIN_MATCH_COSINE:
            ids[r] = previous.ids[c]
    next_id = max(previous.ids) + 1
    for t in range(k):
        if ids[t] is None:
            ids[t] = next_id
            next_id += 1
    return [int(i) for i in ids if i is not None]


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    na[na == 0] = 1.0
    nb[nb == 0] = 1.0
    return (a / na) @ (b / nb).T


def themes_to_rows(themes: Themes) -> pd.DataFrame:
    """Long form for the warehouse: (theme_id, theme_name, tag_rank, tag, weight), weights above MIN_TAG_WEIGHT."""
    records = []
    for t, (theme_id, name) in enumerate(zip(themes.ids, themes.names, strict=True)):
        row = themes.components[t]
        order = sorted(range(len(themes.tags)), key=lambda j: (-row[j], themes.tags[j]))
        kept = [j for j in order if row[j] >= MIN_TAG_WEIGHT]
        records.extend((theme_id, name, rank, themes.tags[j], float(row[j])) for rank, j in enumerate(kept, start=1))
    return pd.DataFrame.from_records(records, columns=["theme_id", "theme_name", "tag_rank", "tag", "weight"])


def themes_from_rows(rows: pd.DataFrame) -> Themes | None:
    """The inverse of themes_to_rows (None for no rows)."""
    if rows.empty:
        return None
    tags = tuple(sorted(rows["tag"].astype(str).unique()))
    position = {t: j for j, t in enumerate(tags)}
    per_theme = rows.sort_values(["theme_id", "tag_rank"]).groupby("theme_id", sort=True)
    ids, names, components = [], [], []
    for theme_id, group in per_theme:
        vector = np.zeros(len(tags))
        for tag, weight in zip(group["tag"].astype(str), group["weight"], strict=True):
            vector[position[tag]] = weight
        ids.append(int(theme_id))
        names.append(str(group["theme_name"].iloc[0]))
        components.append(vector)
    return Themes(ids=tuple(ids), names=tuple(names), tags=tags, components=np.vstack(components))
