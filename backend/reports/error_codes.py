from enum import StrEnum


class ReportErrorCode(StrEnum):
    NOT_ALLOWED = "report_not_allowed"
    INVALID_FILTER = "report_invalid_filter"
    ORG_UNIT_NOT_FOUND = "org_unit_not_found"
