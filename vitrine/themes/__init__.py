"""Themes: NMF on the image x tag matrix of the CNN's top-5 labels (X = WH), named by their top tags.

- matrix: the image x tag matrix from label rows, with probability or TF-IDF weighting
- fit:    the NMF fit, warm-started from the previous night's themes, ids kept by assignment
- naming: a theme's name from its top tags, in words
- shares: each image's theme scores in % (W with H fixed)
"""

from vitrine.themes.fit import Themes, fit_themes, themes_from_rows, themes_to_rows
from vitrine.themes.matrix import TagMatrix, tag_matrix
from vitrine.themes.naming import tag_words, theme_name
from vitrine.themes.shares import image_theme_shares

__all__ = [
    "TagMatrix",
    "Themes",
    "fit_themes",
    "image_theme_shares",
    "tag_matrix",
    "tag_words",
    "theme_name",
    "themes_from_rows",
    "themes_to_rows",
]
