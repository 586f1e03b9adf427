"""Headless LibreOffice driven over UNO; use it through ``doc_templates.convert``."""
