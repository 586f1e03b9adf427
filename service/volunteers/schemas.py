"""Response bodies for volunteers, their posts and service terms.

Masked reads (roles that do not need ID or phone numbers) also leave out the birth date: the birth
date plus the first 6 and last 4 characters would give back the whole ID number.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class PostRead(BaseModel):
    id: int
    unit_id: int
    unit_name: str
    league: str
    county: str
    track: str
    title: str
    county_level: bool


class TermRead(BaseModel):
    id: int
    volunteer_id: int
    volunteer_name: str
    cohort_id: int
    cohort_code: str
    project_type: str
    graduate_teaching_corps: bool
    report_date: date
    agreed_years: int
    service_end: date = Field(description="按约定服务期限计算的最后一天")
    post: PostRead


class VolunteerRead(BaseModel):
    id: int
    id_number: str = Field(description="无需完整证件号的角色看到脱敏值（前6位+后4位）")
    id_number_masked: bool
    name: str
    sex: str
    birth_date: date | None
    ethnicity: str
    political_status: str
    phone: str
    email: str | None
    university: str
    degree: str
    major: str
    graduation: str
    terms: list[TermRead]
