"""Run reports: plots, report.md/report.html, idata.nc and the convergence numbers."""

from __future__ import annotations

from runway.report.render import render_report

__all__ = ["render_report"]
