"""``python -m service`` is the ``xibu`` command."""

from service.cli import app

app()
