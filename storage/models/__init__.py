"""All tables. Importing this package registers every table on SQLModel.metadata."""

from storage.models.appraisal import Appraisal, AppraisalGrade
from storage.models.batch import Batch, BatchItem, BatchStatus, ItemStatus
from storage.models.cohort import Cohort
from storage.models.document import Document, DocumentRevision, DocumentStatus, TemplateVersion
from storage.models.imports import ImportRun
from storage.models.organization import Organization, OrgKind
from storage.models.session import EndedSession
from storage.models.signing import AuditEvent, RequestStatus, SignerCertificate, SigningRequest
from storage.models.user import Role, User
from storage.models.volunteer import Post, ServiceTerm, Volunteer

__all__ = [
    "Appraisal",
    "AppraisalGrade",
    "AuditEvent",
    "Batch",
    "BatchItem",
    "BatchStatus",
    "Cohort",
    "Document",
    "DocumentRevision",
    "DocumentStatus",
    "EndedSession",
    "ImportRun",
    "ItemStatus",
    "OrgKind",
    "Organization",
    "Post",
    "RequestStatus",
    "Role",
    "ServiceTerm",
    "SignerCertificate",
    "SigningRequest",
    "TemplateVersion",
    "User",
    "Volunteer",
]
