"""The task page decides in one screen (issue 17 item 2): a toolbar of the actions the user may
take (each opening a dialog with its form), 上一条/下一条 links in the inbox's order, a refused
action's dialog opening again, the approve confirmation, flags with their reasons, 抄送 and the
case's history."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks.models import CaseCopy, HumanTask
from tests.web.helpers import html, second_reviewer, submit_opening

pytestmark = pytest.mark.django_db

OPENING_CASE = "customers.accountopening"
REVIEWER_ACTIONS = ("action-return", "action-transfer", "action-delegate", "action-signer")


def _buttons(body: str) -> set[str]:
    """The data-testids of the toolbar's buttons and links."""
    start = body.index('data-testid="task-toolbar"') + len('data-testid="task-toolbar"')
    toolbar = body[start : body.index('<div class="task-layout')]
    return set(re.findall(r'data-testid="((?:action|task)-[a-z]+)"', toolbar))


def _review(opening) -> HumanTask:
    return HumanTask.objects.get(case_type=OPENING_CASE, case_id=opening.pk, step="review", status="ready")


def test_reviewer_sees_return_transfer_delegate_and_add_signer_in_the_toolbar(login, review_task):
    second_reviewer()
    body = html(login("reviewer.sz").get(f"/tasks/{review_task.pk}/"))
    # An unclaimed task: 认领, and 催办 (the other candidates) beside the reviewer's actions.
    assert _buttons(body) == {*REVIEWER_ACTIONS, "action-remind", "action-copy", "task-claim"}
    assert '<a href="#dlg-transfer" class="btn btn-secondary" data-dialog-open="dlg-transfer" data-testid="action-transfer">转办</a>' in body
    # Each action's form sits in its dialog, closed: the same POST URL and test ids as before.
    for name, url in (("transfer", "transfer"), ("return", "return"), ("delegate", "delegate"), ("signer", "signers")):
        dialog = re.search(rf'<dialog class="action-dialog" id="dlg-{name}"[^>]*>(.*?)</dialog>', body, re.S)
        assert dialog, name
        assert "data-open" not in dialog.group(0).split(">", 1)[0]
        assert f'action="/tasks/{review_task.pk}/{url}/"' in dialog.group(1)
    # The decision form is on the page itself, not in a dialog.
    assert 'data-testid="task-submit"' in body.split("<dialog", 1)[0]


def test_a_user_without_the_right_sees_no_return_transfer_or_add_signer(login, review_task):
    second_reviewer()
    reviewer = login("reviewer.sz")
    reviewer.post(f"/tasks/{review_task.pk}/claim/")
    # Someone else's claimed task: 催办 and 抄送 only.
    other = html(login("reviewer2.sz").get(f"/tasks/{review_task.pk}/"))
    assert _buttons(other) == {"action-remind", "action-copy"}
    assert 'id="dlg-transfer"' not in other and 'id="dlg-return"' not in other and 'id="dlg-signer"' not in other
    assert 'id="dlg-approve"' not in other  # no approve shortcut for someone who cannot act
    # The case's initiator (the collector): 催办, 抄送 and 撤回 (to the case's withdraw URL).
    submitter = html(login("collector.sz").get(f"/tasks/{review_task.pk}/"))
    assert _buttons(submitter) == {"action-remind", "action-copy", "action-withdraw"}
    assert f'<form method="post" action="/cases/{review_task.instance_id}/withdraw/" class="form" data-testid="withdraw-form">' in submitter
    # The assignee: the reviewer's actions and 释放.
    mine = html(reviewer.get(f"/tasks/{review_task.pk}/"))
    assert _buttons(mine) == {*REVIEWER_ACTIONS, "action-copy", "task-unclaim"}


def test_done_task_has_no_actions(login, review_task):
    client = login("reviewer.sz")
    assert client.post(f"/tasks/{review_task.pk}/", {"decision": "approve"}).status_code == 302
    body = html(client.get(f"/tasks/{review_task.pk}/"))
    assert _buttons(body) == set()
    assert "<dialog" in body and 'id="dlg-keys"' in body  # only the shortcut help


def test_neighbour_links_follow_the_inbox_order_due_first(login, seeded):
    first, second, third = (_review(submit_opening(seq=seq, name=name)) for seq, name in ((201, "甲"), (202, "乙"), (203, "丙")))
    now = timezone.now()
    # Due order: third (due soonest), first, then second (no deadline: last).
    HumanTask.objects.filter(pk=third.pk).update(due_at=now + timedelta(hours=1))
    HumanTask.objects.filter(pk=first.pk).update(due_at=now + timedelta(hours=2))
    HumanTask.objects.filter(pk=second.pk).update(due_at=None)
    client = login("reviewer.sz")

    def links(task):
        body = html(client.get(f"/tasks/{task.pk}/"))
        prev = re.search(r'<a href="/tasks/(\d+)/" rel="prev"[^>]*data-testid="task-prev"', body)
        nxt = re.search(r'<a href="/tasks/(\d+)/" rel="next"[^>]*data-testid="task-next"', body)
        return (int(prev.group(1)) if prev else None, int(nxt.group(1)) if nxt else None)

    assert links(third) == (None, first.pk)
    assert links(first) == (third.pk, second.pk)
    assert links(second) == (first.pk, None)
    # Another org's reviewer does not see these tasks: the links never point outside the inbox.
    other = html(login("reviewer.gz").get("/inbox/"))
    assert f"task-link-{first.pk}" not in other


def test_failed_transfer_rerenders_with_the_transfer_dialog_open(login, review_task):
    second_reviewer()
    response = login("reviewer.sz").post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer.gz", "reason": "休假"})
    assert response.status_code == 400
    body = html(response)
    assert '<dialog class="action-dialog" id="dlg-transfer" aria-labelledby="transfer-title" data-testid="dialog-transfer" data-open>' in body
    assert len(re.findall(r"<dialog [^>]*data-open>", body)) == 1  # only that one
    assert 'data-testid="transfer-reason">休假</textarea>' in body


def test_failed_return_and_copy_reopen_their_dialogs(login, review_task):
    client = login("reviewer.sz")
    body = html(client.post(f"/tasks/{review_task.pk}/return/", {"target": "", "reason": ""}))
    assert re.findall(r'<dialog [^>]*id="dlg-(\w+)"[^>]*data-open>', body) == ["return"]
    body = html(client.post(f"/tasks/{review_task.pk}/copy/", {"to": "nobody.here", "note": ""}))
    assert re.findall(r'<dialog [^>]*id="dlg-(\w+)"[^>]*data-open>', body) == ["copy"]
    assert "用户不存在或已停用: nobody.here" in body
    # A refused decision re-renders with no dialog open: its messages are in the form itself.
    body = html(client.post(f"/tasks/{review_task.pk}/", {"comment": "看过"}))
    assert "data-open>" not in body


def test_copy_from_the_task_page(login, review_task):
    second_reviewer()
    response = login("reviewer.sz").post(f"/tasks/{review_task.pk}/copy/", {"to": "reviewer2.sz, officer.sz", "note": "请知悉"})
    assert response.status_code == 302 and response["Location"] == f"/tasks/{review_task.pk}/"
    copies = CaseCopy.objects.filter(task=review_task).order_by("to_user__username")
    assert [(c.to_user.username, c.note) for c in copies] == [("officer.sz", "请知悉"), ("reviewer2.sz", "请知悉")]


def test_approve_confirmation_only_where_approve_is_a_choice(login, review_task):
    body = html(login("reviewer.sz").get(f"/tasks/{review_task.pk}/"))
    assert '<dialog class="action-dialog confirm-dialog" id="dlg-approve"' in body
    assert "确定以“通过”提交本任务吗？" in body
    assert 'data-testid="approve-confirm">确定通过</button>' in body
    # A fix task (no decision field) has no approve shortcut.
    reviewer = login("reviewer.sz")
    assert reviewer.post(f"/tasks/{review_task.pk}/", {"decision": "return", "comment": "电话号码有误"}).status_code == 302
    fix = HumanTask.objects.get(instance_id=review_task.instance_id, step="fix_submission", status="ready")
    assert 'id="dlg-approve"' not in html(login("collector.sz").get(f"/tasks/{fix.pk}/"))


def test_flags_show_with_their_reasons_and_the_history_is_on_the_page(login, seeded):
    submit_opening(seq=123)
    second = submit_opening(seq=124, name="李测试")  # same phone as the first
    task = _review(second)
    body = html(login("reviewer.sz").get(f"/tasks/{task.pk}/"))
    flags = body[body.index('data-testid="task-flags"') :]
    assert '<li><span class="badge badge-warn" data-flag="shared_phone">电话号码重复</span> <span class="flag-reason">与 1 位其他客户的电话号码相同</span></li>' in flags
    history = body[body.index('data-testid="task-history"') :]
    assert "发起" in history and "生成任务" in history and "办理“客户信息管理岗确认开户”" in history
    # Both in the decision column, before the scan's and the case's end: one screen.
    assert body.index('data-testid="task-flags"') < body.index('data-testid="decision-panel"')


def test_the_toolbar_and_dialogs_in_english(login, review_task):
    client = login("reviewer.sz")
    client.cookies["django_language"] = "en"
    body = html(client.get(f"/tasks/{review_task.pk}/"))
    assert 'data-testid="action-transfer">Transfer</a>' in body
    assert 'data-testid="shortcuts-help" title="Keyboard shortcuts (?)">Shortcuts</a>' in body
    assert "Submit this task as" in body and 'data-testid="approve-confirm">Approve</button>' in body
    assert "History and comments" in body and "Task created" in body
