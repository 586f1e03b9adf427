"""All tables. Importing this package registers every table on SQLModel.metadata."""

from storage.models.appraisal import Appraisal, AppraisalGrade
from storage.models.cohort import Cohort
from storage.models.imports import ImportRun
from storage.models.organization import Organization, OrgKind
from storage.models.user import Role, User
from storage.models.volunteer import Post, ServiceTerm, Volunteer

__all__ = [
    "Appraisal",
    "AppraisalGrade",
    "Cohort",
    "ImportRun",
    "OrgKind",
    "Organization",
    "Post",
    "Role",
    "ServiceTerm",
    "User",
    "Volunteer",
]
