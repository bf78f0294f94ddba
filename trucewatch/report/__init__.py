"""Outputs people read: the daily report (HTML and PDF) and exports."""
