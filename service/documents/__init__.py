"""Issued documents: verification codes, QR payloads, batches and the registry."""
