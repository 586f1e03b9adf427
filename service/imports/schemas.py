"""The import report: one schema for the API response, the API's rejection body and ``xibu import --json``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from service.imports.validation import RowError

# Listing every error of a 20,000-row sheet would bury the office; the count still says how many.
MAX_LISTED_ERRORS = 1000


class RowErrorRead(BaseModel):
    row: int | None = Field(description="表格行号（表头为第1行）；整个文件的问题为空")
    serial: str | None = Field(default=None, description="该行的“序号”")
    column: str | None = Field(description="列名")
    message: str

    @classmethod
    def of(cls, error: RowError) -> RowErrorRead:
        return cls(row=error.row, serial=error.serial, column=error.column, message=error.message)

    def text(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第{self.row}行" + (f"（序号{self.serial}）" if self.serial else ""))
        if self.column:
            where.append(f"【{self.column}】")
        return "".join(where) + ("：" if where else "") + self.message


class CountyWarning(BaseModel):
    """A county over the 10% cap on county-level posts (实施方案 二(一)2). Warns; never blocks."""

    league: str
    county: str
    total: int
    county_level: int
    allowed: int
    message: str


class ImportReport(BaseModel):
    status: Literal["imported", "checked", "rejected"]
    cohort: str
    filename: str
    sha256: str
    rows: int = Field(description="数据行数（不含表头）")
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors_truncated: bool = False
    errors: list[RowErrorRead] = Field(default_factory=list)
    warnings: list[CountyWarning] = Field(default_factory=list)
    import_run_id: int | None = None

    def summary(self) -> str:
        if self.status == "rejected":
            return f"导入被拒绝：共{self.error_count}处错误，未写入任何数据。请修改表格后重新导入。"
        verb = "检查完成（未写入）：将" if self.status == "checked" else "导入完成："
        counts = f"新增{self.created}人，更新{self.updated}人，未变{self.unchanged}人"
        if self.created == 0 and self.updated == 0:
            counts += "（数据无变化）"
        return (
            verb
            + counts
            + (f"；{len(self.warnings)}个旗县超过县级及以上机关岗位10%上限" if self.warnings else "")
        )
