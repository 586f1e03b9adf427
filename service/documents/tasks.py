"""Queued jobs of the documents domain. Each takes ids, opens its own sessions, and is idempotent."""

from __future__ import annotations

from service.config import get_settings
from service.documents.batches import run_batch
from service.documents.converter import shared_converter
from service.documents.sealing import region_sealer
from service.jobs import queue
from storage.archive import Archive
from storage.db import session_scope

huey = queue()


@huey.task(name="documents.issue_batch")
def issue_batch(batch_id: int) -> int:
    """Issue what is left of a batch. Several workers may run this for one batch at once."""
    settings = get_settings()
    with session_scope() as session:
        sealer = region_sealer(session)
    result = run_batch(batch_id, shared_converter(), Archive.at(settings.data_dir), sealer=sealer)
    return result.done
