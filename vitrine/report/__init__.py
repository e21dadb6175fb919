"""The night's static HTML run report (``page``), its SVG charts (``charts``) and photo thumbnails
(``thumbnails``)."""

from vitrine.report.page import REPORT_DIR, write_report

__all__ = ["REPORT_DIR", "write_report"]
