"""Historical data cleansing (历史数据的清洗): stream a legacy CSV (UTF-8 or GBK) or XLSX file,
validate every row with the live opening's field rules (`customers.checks.customer_clean`),
create valid new customers, send conflicting and suspicious rows to review, and record one
result per row. Memory stays bounded: rows are read lazily and handled in chunks."""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from backend.common.audit import audit_download_record, audit_event_record
from backend.common.exceptions import Forbidden, NotFound
from backend.common.spreadsheets import InertWorkbook
from backend.customers.checks import CheckSubject, customer_checks_run_many, customer_clean, flags_merge
from backend.customers.models import HOLDING_STATUSES, Customer, CustomerStatus, IdType, InfoLevel
from backend.integrations.dispatch import import_reviews_start_on_commit, import_run_on_commit
from backend.integrations.models import (
    ImportBatch,
    ImportReview,
    ImportRow,
    ImportStatus,
    ReviewKind,
    RowOutcome,
)
from backend.integrations.selectors import import_batch_get_visible
from backend.integrations.spreadsheets import (
    ImportFileInvalid,
    xlsx_cells_counter,
    xlsx_check,
    xlsx_check_bounded,
)
from backend.organisation.models import Role, SalesAgent
from backend.organisation.selectors import user_org_unit_for_role
from processes.services import process_instance_start

IMPORT_PROCESS = "import_row_review"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
CHUNK = 1000
# Columns read per row (the known headers number 14; more are ignored, never padded out).
MAX_COLUMNS = 64

# Column header (Chinese or English) → field.
HEADERS = {
    "customer_type": "customer_type",
    "客户类型": "customer_type",
    "name": "name",
    "姓名": "name",
    "名称": "name",
    "客户名称": "name",
    "id_type": "id_type",
    "证件类型": "id_type",
    "id_number": "id_number",
    "证件号码": "id_number",
    "phone": "phone",
    "联系电话": "phone",
    "电话": "phone",
    "address": "address",
    "通讯地址": "address",
    "地址": "address",
    "email": "email",
    "电子邮箱": "email",
    "info_level": "info_level",
    "信息程度": "info_level",
    "legal_rep_name": "legal_rep_name",
    "法定代表人": "legal_rep_name",
    "legal_rep_id_type": "legal_rep_id_type",
    "法定代表人证件类型": "legal_rep_id_type",
    "legal_rep_id_number": "legal_rep_id_number",
    "法定代表人证件号码": "legal_rep_id_number",
    "contact_person": "contact_person",
    "联系人": "contact_person",
}
REQUIRED_COLUMNS = ("name", "id_type", "id_number")
COMPARED_FIELDS = (
    "name",
    "phone",
    "address",
    "email",
    "legal_rep_name",
    "legal_rep_id_number",
    "contact_person",
)
ID_TYPE_LABELS = {str(label): value for value, label in IdType.choices}
LEVEL_LABELS = {"初级": "primary", "初级程度": "primary", "高级": "advanced", "高级程度": "advanced"}
TYPE_LABELS = {"个人": "individual", "个人客户": "individual", "法人": "corporate", "法人客户": "corporate"}




# ---- reading ---------------------------------------------------------------------------------


@dataclass
class Source:
    rows: Iterator[list[Any]]
    position: Any  # () -> bytes consumed so far (for the progress bar)


def _open_csv(fileobj: IO[bytes]) -> Source:
    head = fileobj.read(64 * 1024)
    fileobj.seek(0)
    if b"\x00" in head:
        raise ImportFileInvalid(_("文件不是 CSV 或 XLSX 表格"))
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the sample is not an encoding error.
        if exc.start < len(head) - 3:
            encoding = "gb18030"  # a superset of GBK and GB2312, as Excel in China saves CSV
    if encoding == "gb18030":
        try:
            head.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFileInvalid(_("无法识别文件编码:请以 UTF-8 或 GBK 编码保存 CSV")) from None
    text = codecs.getreader(encoding)(fileobj, errors="strict")
    return Source(rows=csv.reader(text), position=fileobj.tell)


def _open_xlsx(fileobj: IO[bytes], size: int) -> Source:
    """Only in the import job (worker): the structural check again, then openpyxl read-only."""

    xlsx_check(fileobj)
    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        total = max(sheet.max_row or 1, 1)
    except Exception as exc:  # noqa: BLE001 — any failure of openpyxl on a hostile part
        raise ImportFileInvalid(_("XLSX 文件无法读取:%(error)s") % {"error": str(exc)[:200]}) from None
    state = {"n": 0}
    count_cells = xlsx_cells_counter()

    def rows() -> Iterator[list[Any]]:
        try:
            for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                state["n"] += 1
                count_cells(len(values))
                yield ["" if v is None else v for v in values]
        except ImportFileInvalid:
            raise
        except Exception as exc:  # noqa: BLE001 — malformed XML in a sheet, bad cell values
            raise ImportFileInvalid(_("XLSX 文件无法读取:%(error)s") % {"error": str(exc)[:200]}) from None
        finally:
            workbook.close()

    return Source(rows=rows(), position=lambda: int(size * min(state["n"] / total, 1)))


def _kind(fileobj: IO[bytes]) -> str:
    head = fileobj.read(8)
    fileobj.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileInvalid(_("不支持旧版 Excel(.xls)文件,请另存为 .xlsx 或 CSV"))
    return "csv"


def source_open(fileobj: IO[bytes], size: int) -> Source:
    """The rows of the file (the import job only: this parses)."""
    if _kind(fileobj) == "xlsx":
        return _open_xlsx(fileobj, size)
    return _open_csv(fileobj)


def source_precheck(fileobj: IO[bytes]) -> None:
    """At upload (the request thread): refuse what is clearly not a spreadsheet or breaks the
    XLSX limits, without parsing it (CSV: the first 64 KB; XLSX: the structural check in a
    killable child). Rewinds the file."""
    if _kind(fileobj) == "xlsx":
        xlsx_check_bounded(fileobj)
    else:
        _open_csv(fileobj)
    fileobj.seek(0)


def _columns(header: list[Any]) -> list[str | None]:
    names = [HEADERS.get(str(h or "").strip().lower(), HEADERS.get(str(h or "").strip())) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ImportFileInvalid(
            _("缺少必需的列:%(columns)s(表头须包含 姓名/name、证件类型/id_type、证件号码/id_number)")
            % {"columns": ", ".join(missing)}
        )
    return names


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value if value is not None else "").strip()


def _row_values(columns: list[str | None], raw: list[Any]) -> dict[str, str]:
    values = {name: _text(raw[i]) if i < len(raw) else "" for i, name in enumerate(columns) if name}
    values["id_type"] = ID_TYPE_LABELS.get(values.get("id_type", ""), values.get("id_type", ""))
    level = values.get("info_level", "")
    values["info_level"] = LEVEL_LABELS.get(level, level) or InfoLevel.PRIMARY
    ctype = values.get("customer_type", "")
    if not ctype:
        ctype = "corporate" if values["id_type"] in (IdType.USCC, IdType.ORG_CODE) else "individual"
    values["customer_type"] = TYPE_LABELS.get(ctype, ctype)
    return values


# ---- upload ----------------------------------------------------------------------------------


def import_batch_create(*, actor, fileobj: IO[bytes], filename: str) -> ImportBatch:
    """Store an uploaded file and queue its import (officers only, at their branch)."""
    org_unit = user_org_unit_for_role(actor, Role.OFFICER)
    if org_unit is None:
        raise Forbidden(_("只有客户信息管理岗可以导入历史数据"), code="not_officer")
    if fileobj is None:
        raise ImportFileInvalid(_("请选择要导入的文件"))
    digest, size = hashlib.sha256(), 0
    fileobj.seek(0)
    for block in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(block)
        size += len(block)
    if size == 0:
        raise ImportFileInvalid(_("文件为空"))
    if size > MAX_UPLOAD_BYTES:
        raise ImportFileInvalid(_("文件过大(上限 200 MB)"))
    fileobj.seek(0)
    source_precheck(fileobj)  # refuse what is clearly not a spreadsheet before queueing
    fileobj.seek(0)
    with transaction.atomic():
        batch = ImportBatch(
            org_unit=org_unit,
            uploaded_by=actor,
            filename=(filename or "import")[:255],
            sha256=digest.hexdigest(),
            size_bytes=size,
        )
        batch.file.save(f"{batch.sha256[:16]}-{timezone.now():%H%M%S%f}.dat", File(fileobj), save=False)
        batch.save()
        audit_event_record(
            actor=actor,
            action="import.uploaded",
            obj=batch,
            org_unit=org_unit,
            data={"filename": batch.filename, "sha256": batch.sha256, "bytes": size},
        )

        import_run_on_commit(batch.pk)
    return batch


# ---- processing ------------------------------------------------------------------------------


@dataclass
class RowResult:
    row_number: int
    outcome: str
    message: str = ""
    customer_id: int | None = None
    flags: list[str] = field(default_factory=list)


def _fingerprint(kind: str, values: dict[str, str]) -> str:
    return hashlib.sha256(
        f"{kind}|{json.dumps(values, sort_keys=True, ensure_ascii=False)}".encode()
    ).hexdigest()


class _Chunk:
    """One chunk of rows: cleaned in Python, then looked up and written with a few queries."""

    def __init__(self, batch: ImportBatch, agents: set[str]) -> None:
        self.batch = batch
        self.agents = agents
        self.items: list[tuple[int, dict[str, str], Any]] = []

    def add(self, row_number: int, values: dict[str, str]) -> None:
        level = values["info_level"] if values["info_level"] in InfoLevel.values else InfoLevel.PRIMARY
        cleaned = customer_clean(values, customer_type=values["customer_type"], info_level=level)
        if values["info_level"] not in InfoLevel.values:
            cleaned.add_error("info_level", _("信息程度无效,可选: primary, advanced"))
        self.items.append((row_number, values, cleaned))

    def run(self, now) -> tuple[list[RowResult], list[ImportReview]]:
        results: list[RowResult] = []
        reviews: list[ImportReview] = []
        valid = [(n, v, c) for n, v, c in self.items if not c.errors]
        numbers = {c.values["id_number"] for _n, _v, c in valid}
        existing = {
            (c.id_type, c.id_number): c
            for c in Customer.objects.filter(id_number__in=numbers, status__in=HOLDING_STATUSES)
        }
        phones = {c.values.get("phone") for _n, _v, c in valid if c.values.get("phone")}
        phone_counts = dict(
            Customer.objects.filter(phone__in=phones, status__in=HOLDING_STATUSES)
            .values("phone")
            .annotate(n=Count("id"))
            .values_list("phone", "n")
        )
        # Checks A (against the file's own merge logic below), D and the blacklist: the same
        # function as a live opening, one set of queries for the whole chunk.
        checked = customer_checks_run_many(
            [
                CheckSubject(
                    values=c.values,
                    exclude_id=getattr(existing.get((c.values["id_type"], c.values["id_number"])), "pk", None),
                    check_phone=bool(c.values.get("phone")),
                    check_duplicate=False,
                )
                for _n, _v, c in valid
            ]
        )
        flags_of = {n: r.flags for (n, _v, _c), r in zip(valid, checked, strict=True)}
        limit = settings.CUSTFLOW["IMPORT_SHARED_PHONE_LIMIT"]
        to_create: list[tuple[int, Customer]] = []
        seen: dict[tuple[str, str], Customer] = {}
        for row_number, values, cleaned in self.items:
            if cleaned.errors:
                message = "; ".join(f"{k}: {' '.join(v)}" for k, v in cleaned.errors.items())
                if set(cleaned.errors) <= {"id_number", "legal_rep_id_number"}:
                    reviews.append(
                        self._review(ReviewKind.SUSPICIOUS, row_number, values, None, reasons=[message])
                    )
                    results.append(RowResult(row_number, RowOutcome.SUSPICIOUS, message))
                else:
                    results.append(RowResult(row_number, RowOutcome.ERROR, message))
                continue
            data = cleaned.values
            key = (data["id_type"], data["id_number"])
            flags = list(flags_of.get(row_number, []))
            if data.get("phone") and phone_counts.get(data["phone"], 0) and "shared_phone" not in flags:
                flags = flags_merge(flags, ["shared_phone"])  # an earlier row of this file holds it
            current = existing.get(key) or seen.get(key)
            if current is not None:
                conflicts = [
                    {"field": f, "current": str(getattr(current, f) or ""), "imported": str(data[f])}
                    for f in COMPARED_FIELDS
                    if data.get(f) and str(data[f]) != str(getattr(current, f) or "")
                ]
                if not conflicts:
                    results.append(
                        RowResult(row_number, RowOutcome.UNCHANGED, _("客户已存在,信息一致"), current.pk, flags)
                    )
                elif current.pk is None:
                    results.append(
                        RowResult(row_number, RowOutcome.ERROR, _("与本文件前面的行证件相同但信息不同"), flags=flags)
                    )
                else:
                    reviews.append(
                        self._review(ReviewKind.MERGE, row_number, values, current, conflicts=conflicts, flags=flags)
                    )
                    results.append(
                        RowResult(
                            row_number,
                            RowOutcome.MERGE_REVIEW,
                            _("与现有客户信息不一致:%(fields)s")
                            % {"fields": ", ".join(c["field"] for c in conflicts)},
                            current.pk,
                            flags,
                        )
                    )
                continue
            reasons = []
            phone = data.get("phone")
            if "agent_phone" in flags:
                reasons.append(_("联系电话与业务员电话相同"))
            if phone and phone_counts.get(phone, 0) >= limit:
                reasons.append(_("联系电话已被 %(n)d 个客户使用") % {"n": phone_counts[phone]})
            if "blacklist_hit" in flags:
                reasons.append(_("命中黑名单"))
            if reasons:
                reviews.append(
                    self._review(ReviewKind.SUSPICIOUS, row_number, values, None, reasons=reasons, flags=flags)
                )
                results.append(RowResult(row_number, RowOutcome.SUSPICIOUS, "; ".join(reasons), flags=flags))
                continue
            if phone:
                phone_counts[phone] = phone_counts.get(phone, 0) + 1
            customer = Customer(
                customer_type=values["customer_type"],
                info_level=values["info_level"],
                status=CustomerStatus.ACTIVE,
                org_unit=self.batch.org_unit,
                collected_by=self.batch.uploaded_by,
                activated_at=now,
                **data,
            )
            seen[key] = customer
            to_create.append((row_number, customer))
            results.append(RowResult(row_number, RowOutcome.CREATED, _("已开户"), flags=flags))
        if to_create:
            Customer.objects.bulk_create([c for _n, c in to_create])
            ids = {n: c.pk for n, c in to_create}
            for result in results:
                if result.outcome == RowOutcome.CREATED:
                    result.customer_id = ids[result.row_number]
        return results, reviews

    def _review(
        self, kind, row_number, values, customer, *, conflicts=None, reasons=None, flags=None
    ) -> ImportReview:
        return ImportReview(
            kind=kind,
            fingerprint=_fingerprint(kind, values),
            batch=self.batch,
            row_number=row_number,
            org_unit=self.batch.org_unit,
            customer=customer,
            row=values,
            conflicts=conflicts or [],
            reasons=reasons or [],
            flags=flags or [],
        )


def _chunk_write(batch: ImportBatch, chunk: _Chunk, counts: dict[str, int], position: int) -> None:
    now = timezone.now()
    with transaction.atomic():
        results, reviews = chunk.run(now)
        if reviews:
            ImportReview.objects.bulk_create(reviews, ignore_conflicts=True)
        prints = {r.fingerprint: r.row_number for r in reviews}
        earlier = dict(
            ImportReview.objects.filter(fingerprint__in=list(prints))
            .exclude(batch=batch)
            .values_list("fingerprint", "batch_id")
        )
        already = {prints[f]: b for f, b in earlier.items()}
        for result in results:
            if result.row_number in already:
                result.message = f"{result.message} " + _("(已在导入 #%(batch)s 中提交审核)") % {
                    "batch": already[result.row_number]
                }
            counts[str(result.outcome)] = counts.get(str(result.outcome), 0) + 1
        ImportRow.objects.bulk_create(
            [
                ImportRow(
                    batch=batch,
                    row_number=r.row_number,
                    outcome=r.outcome,
                    message=r.message[:2000],
                    customer_id=r.customer_id,
                    flags=r.flags,
                )
                for r in results
            ]
        )
        created = [r.customer_id for r in results if r.outcome == RowOutcome.CREATED]
        if created:
            audit_event_record(
                actor=batch.uploaded_by,
                action="import.customers_created",
                obj=batch,
                org_unit=batch.org_unit,
                data={"count": len(created), "first_id": min(created), "last_id": max(created)},
            )
        batch.processed_rows += len(results)
        batch.bytes_read = position
        batch.counts = counts
        batch.save(update_fields=["processed_rows", "bytes_read", "counts"])


def import_reviews_start(*, batch_id: int) -> int:
    """The follow-up job: one review task per queued review row of the batch. Separate from the
    import so the rows stream at full speed; idempotent (a row with a process is skipped)."""

    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    started = 0
    pending = ImportReview.objects.filter(batch=batch, process_instance__isnull=True).values_list(
        "pk", flat=True
    )
    for pk in list(pending.iterator(chunk_size=500)):
        with transaction.atomic():
            review = (
                ImportReview.objects.select_for_update().filter(pk=pk, process_instance__isnull=True).first()
            )
            if review is None:
                continue
            review.process_instance = process_instance_start(
                actor=batch.uploaded_by,
                key=IMPORT_PROCESS,
                org_unit=review.org_unit,
                data={"case_id": review.pk, "customer_id": review.customer_id, "flags": [review.kind]},
                subject_type="integrations.importreview",
                subject_id=review.pk,
            )
            review.save(update_fields=["process_instance"])
            started += 1
    return started


def _result_file(batch: ImportBatch) -> None:
    workbook = InertWorkbook(write_only=True)
    sheet = workbook.add_sheet(_("导入结果"))
    sheet.append([_("行号"), _("结果"), _("说明"), _("客户号"), _("标记")])
    labels = dict(RowOutcome.choices)
    for row in (
        ImportRow.objects.filter(batch=batch)
        .order_by("row_number")
        .values_list("row_number", "outcome", "message", "customer_id", "flags")
        .iterator(chunk_size=5000)
    ):
        sheet.append([row[0], str(labels.get(row[1], row[1])), row[2], row[3], ",".join(row[4] or [])])
    batch.result_file.save(f"import-{batch.pk}-result.xlsx", ContentFile(workbook.to_bytes()), save=False)


def import_batch_run(*, batch_id: int) -> ImportBatch:
    """The job: idempotent (a redelivered job restarts the batch; rows already imported are
    then "unchanged" and reviews already filed are not filed again)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status in (ImportStatus.DONE, ImportStatus.FAILED):
            return batch
        batch.status = ImportStatus.RUNNING
        batch.processed_rows = batch.bytes_read = 0
        batch.counts = {}
        batch.save(update_fields=["status", "processed_rows", "bytes_read", "counts"])
        ImportRow.objects.filter(batch=batch).delete()
    counts: dict[str, int] = {}
    agents = set(SalesAgent.objects.filter(active=True).values_list("phone", flat=True))
    try:
        with batch.file.open("rb") as fileobj:
            source = source_open(fileobj, batch.size_bytes)
            try:
                header = next(source.rows, None)
                if header is None:
                    raise ImportFileInvalid(_("文件没有表头"))
                columns = _columns(header)
                chunk = _Chunk(batch, agents)
                row_number = 1
                for raw in source.rows:
                    row_number += 1
                    if not any(_text(v) for v in raw):
                        continue
                    chunk.add(row_number, _row_values(columns, raw))
                    if len(chunk.items) >= CHUNK:
                        _chunk_write(batch, chunk, counts, source.position())
                        chunk = _Chunk(batch, agents)
                if chunk.items:
                    _chunk_write(batch, chunk, counts, source.position())
            except UnicodeDecodeError:
                raise ImportFileInvalid(
                    _("第 %(row)d 行附近编码错误:请以 UTF-8 或 GBK 编码保存整个文件")
                    % {"row": row_number + 1}
                ) from None
            except csv.Error as exc:
                raise ImportFileInvalid(_("CSV 格式错误:%(error)s") % {"error": str(exc)[:200]}) from None
        _result_file(batch)
        batch.status = ImportStatus.DONE
        batch.bytes_read = batch.size_bytes
    except ImportFileInvalid as exc:
        batch.status = ImportStatus.FAILED
        batch.message = "; ".join(exc.field_errors.get("file", [])) or exc.message
    batch.finished_at = timezone.now()
    with transaction.atomic():
        batch.save(update_fields=["status", "message", "bytes_read", "finished_at", "result_file"])
        audit_event_record(
            actor=batch.uploaded_by,
            action=f"import.{batch.status}",
            obj=batch,
            org_unit=batch.org_unit,
            data={"counts": batch.counts, "message": batch.message},
        )
        if batch.status == ImportStatus.DONE:
            import_reviews_start_on_commit(batch.pk)
    return batch


def import_result_download(*, user, batch_id: Any):
    """The batch's result workbook (an open file; 404 while not ready), recorded in the audit trail."""

    batch = import_batch_get_visible(user=user, batch_id=batch_id)
    if not batch.result_file:
        raise NotFound(_("结果文件尚未生成"), code="result_not_ready")
    filename = f"import-{batch.pk}-result.xlsx"
    audit_download_record(
        actor=user,
        kind="import_result",
        filename=filename,
        size=batch.result_file.size,
        obj=batch,
        org_unit=batch.org_unit,
    )
    return batch.result_file.open("rb"), filename
