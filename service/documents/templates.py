"""Template versions: the built-in DOCX of each kind, and versions an admin uploads.

A version is its SHA-256; the DOCX lives in the archive under that key, so an issued document can
always be re-rendered with exactly the template it was made from.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from doc_templates.checks import check_template, template_version
from doc_templates.kinds import KINDS, get_kind
from service.errors import AppError, NotFound
from storage.archive import Archive
from storage.models import TemplateVersion


def active_version(session: Session, archive: Archive, kind: str) -> TemplateVersion:
    """The active version of ``kind``; the built-in template is registered on first use."""
    found = session.exec(
        select(TemplateVersion).where(TemplateVersion.kind == kind, col(TemplateVersion.active).is_(True))
    ).first()
    if found is not None:
        return found
    data = get_kind(kind).template_path.read_bytes()
    return _register(session, archive, kind, data, note="内置模板", activate=True)


def template_bytes(archive: Archive, version: TemplateVersion) -> bytes:
    return archive.get(version.sha256)


def _register(
    session: Session,
    archive: Archive,
    kind: str,
    data: bytes,
    *,
    note: str,
    activate: bool,
    user_id: int | None = None,
) -> TemplateVersion:
    sha = template_version(data)
    archive.put(data)
    version = session.exec(
        select(TemplateVersion).where(TemplateVersion.kind == kind, TemplateVersion.sha256 == sha)
    ).first()
    if version is None:
        version = TemplateVersion(kind=kind, sha256=sha, note=note, uploaded_by_id=user_id)
        try:
            with session.begin_nested():  # two workers may register the built-in template at once
                session.add(version)
        except IntegrityError:
            version = session.exec(
                select(TemplateVersion).where(TemplateVersion.kind == kind, TemplateVersion.sha256 == sha)
            ).one()
    if activate:
        for other in session.exec(
            select(TemplateVersion).where(TemplateVersion.kind == kind, col(TemplateVersion.active).is_(True))
        ).all():
            other.active = False
        version.active = True
    session.flush()
    return version


def upload_version(
    session: Session,
    archive: Archive,
    kind: str,
    data: bytes,
    *,
    user_id: int | None,
    note: str | None = None,
    activate: bool = True,
    convert: Callable[[bytes], bytes] | None = None,
) -> TemplateVersion:
    """Check an uploaded template (opens, only the kind's variables, every anchor, renders) and store it.

    Documents already issued keep the version they were rendered with.
    """
    if kind not in KINDS:
        raise NotFound(f"文书类型“{kind}”不存在")
    problems = check_template(kind, data, convert=convert)
    if problems:
        raise AppError(
            "模板未通过检查：" + "；".join(problems), status=422, code="template_rejected", problems=problems
        )
    return _register(
        session, archive, kind, data, note=note or "上传版本", activate=activate, user_id=user_id
    )


def list_versions(session: Session, kind: str | None = None) -> list[TemplateVersion]:
    stmt = select(TemplateVersion).order_by(col(TemplateVersion.id))
    if kind:
        stmt = stmt.where(TemplateVersion.kind == kind)
    return list(session.exec(stmt).all())
