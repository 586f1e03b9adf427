"""The one refusal of an import: it carries the full report, so the office sees every error at once."""

from __future__ import annotations

from service.errors import AppError
from service.imports.schemas import ImportReport


class ImportRejected(AppError):
    """Nothing was written. 422 for errors in the sheet; 400/413 when the file itself is unreadable or too big."""

    status = 422
    code = "import_rejected"

    def __init__(self, report: ImportReport, *, status: int | None = None, code: str | None = None) -> None:
        # One error (a file-level one, typically) is the clearest detail there is; many get the summary.
        detail = report.errors[0].text() if report.error_count == 1 and report.errors else report.summary()
        super().__init__(detail, status=status, code=code, report=report.model_dump(mode="json"))
        self.report = report
