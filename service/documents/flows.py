"""Steps that reach past one transaction: commit the state, then hand the work to the workers.

The service functions flush and never commit; a flow commits because the jobs it queues run in
other processes and must find what it wrote. The API and the pages call the same flow.
"""

from __future__ import annotations

from sqlmodel import Session

from service.documents import batches
from storage.models import Batch

#: Jobs queued per batch, so that two workers share it (each takes the next free items).
BATCH_JOBS = 2


def start_batch(session: Session, cohort_code: str, kind: str, *, user_id: int | None) -> Batch:
    """Start (or resume) a cohort's batch, commit it, then queue the jobs that issue it.

    A job must see its batch, so it is queued only once the batch is committed; a batch that has
    nothing left to do (already finished) queues nothing.
    """
    from service.documents.tasks import issue_batch  # the task module builds the queue: load it on use

    batch = batches.start_batch(session, cohort_code, kind, user_id=user_id)
    assert batch.id is not None
    session.commit()
    if batch.status == "running":
        for _ in range(BATCH_JOBS):
            issue_batch(batch.id)
    return batch
