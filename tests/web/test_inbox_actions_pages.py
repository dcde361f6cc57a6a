"""转办, 催办 and the notification centre on the web: the task page's forms, their refusals
(field messages, 403/404/409/429) and /notifications/ with the top-bar unread badge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.common.models import AuditEvent
from tasks.models import HumanTask, Notification
from tests.web.helpers import html, second_reviewer, user

pytestmark = pytest.mark.django_db

BADGE = 'data-testid="nav-notifications">通知 <span class="nav-badge" data-testid="unread-count" title="未读通知">{n}</span></a>'
NO_BADGE = 'data-testid="nav-notifications">通知</a>'
TRANSFER_OPTION = '<option value="reviewer2.sz">深圳复核岗 (reviewer2.sz)</option>'


@pytest.fixture
def reviewer2(seeded):
    """reviewer2.sz (深圳复核岗): a second reviewer at GD-SZ."""
    return second_reviewer()


@pytest.fixture(autouse=True)
def _no_setup_notifications(request):
    """These tests count the notifications their action makes: the 新任务 notices the setup's
    opening produced (tested in tests/tasks/test_notifications.py) are cleared first."""
    if "review_task" in request.fixturenames:
        request.getfixturevalue("review_task")
        Notification.objects.filter(kind="new_task").delete()


def _task(task_id: int) -> HumanTask:
    return HumanTask.objects.select_related("assignee").get(pk=task_id)


# ---- the task page's sections ---------------------------------------------------------------


def test_candidate_sees_transfer_with_eligible_colleagues_and_remind(login, reviewer2, review_task):
    body = html(login("reviewer.sz").get(f"/tasks/{review_task.pk}/"))
    assert f'<form method="post" action="/tasks/{review_task.pk}/transfer/" class="form" data-testid="transfer-form">' in body
    assert '<select name="to" id="transfer_to" required data-testid="transfer-to">' in body
    # Only reviewer2.sz: not the actor, not the submitter, not reviewers of other branches (the
    # third option is the 退回 form's target: the officer's step, issue 16 item 4).
    assert body.count("<option value=") == 3
    assert '<option value="">请选择同事</option>' in body
    assert TRANSFER_OPTION in body
    assert 'name="reason" id="transfer_reason" rows="2" maxlength="500" required data-testid="transfer-reason"></textarea>' in body
    assert 'data-testid="transfer-submit">转办</button>' in body
    assert f'<form method="post" action="/tasks/{review_task.pk}/remind/" class="form" data-testid="remind-form">' in body
    assert 'data-testid="remind-submit">催办</button>' in body


def test_submitter_sees_remind_only_and_assignee_transfer_only(login, reviewer2, review_task):
    submitter = html(login("collector.sz").get(f"/tasks/{review_task.pk}/"))
    assert 'data-testid="transfer-form"' not in submitter
    assert 'data-testid="remind-submit">催办</button>' in submitter

    reviewer = login("reviewer.sz")
    reviewer.post(f"/tasks/{review_task.pk}/claim/")
    assignee = html(reviewer.get(f"/tasks/{review_task.pk}/"))
    assert TRANSFER_OPTION in assignee
    assert 'data-testid="remind-form"' not in assignee

    # Someone else's claimed task: no transfer (only its assignee may), but remind.
    other = html(login("reviewer2.sz").get(f"/tasks/{review_task.pk}/"))
    assert 'data-testid="transfer-form"' not in other
    assert 'data-testid="remind-submit"' in other


def test_done_task_has_neither_section(login, reviewer2, review_task):
    client = login("reviewer.sz")
    assert client.post(f"/tasks/{review_task.pk}/", {"decision": "approve"}).status_code == 302
    body = html(client.get(f"/tasks/{review_task.pk}/"))
    assert 'data-testid="task-done"' in body
    assert 'data-testid="transfer-form"' not in body
    assert 'data-testid="remind-form"' not in body


def test_no_eligible_colleague_says_so(login, review_task):
    body = html(login("reviewer.sz").get(f"/tasks/{review_task.pk}/"))
    assert body.count("<option value=") == 2  # the placeholder and the 退回 target (the officer's step)
    assert '<p class="help" data-testid="transfer-none">本机构没有其他可处理此任务的同事</p>' in body


# ---- 转办 ------------------------------------------------------------------------------------


def test_transfer_moves_the_task_into_reviewer2_inbox(login, reviewer2, review_task):
    client = login("reviewer.sz")
    response = client.post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer2.sz", "reason": "本人休假,请代为审核"})
    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    inbox = html(client.get("/inbox/"))
    assert '<div class="alert alert-success" role="status" data-testid="flash-success">已转办给 深圳复核岗</div>' in inbox
    assert f"task-link-{review_task.pk}" not in inbox
    assert '<b data-testid="count-total">0</b>' in inbox

    task = _task(review_task.pk)
    assert (task.status, task.assignee.username) == ("ready", "reviewer2.sz")
    assert task.claimed_at is not None
    event = AuditEvent.objects.get(action="task.transferred")
    assert (event.actor.username, event.data) == ("reviewer.sz", {"from": None, "to": "reviewer2.sz", "reason": "本人休假,请代为审核"})

    theirs = html(login("reviewer2.sz").get("/inbox/"))
    assert f'data-testid="task-link-{review_task.pk}">客户信息审核</a>' in theirs
    assert '<small class="who">深圳复核岗</small>' in theirs  # the assignee, under the step
    assert '<b data-testid="count-mine">1</b>' in theirs
    assert '<b data-testid="count-group">0</b>' in theirs


def test_transfer_to_ineligible_user_rerenders_with_field_message_and_changes_nothing(login, reviewer2, review_task):
    response = login("reviewer.sz").post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer.gz", "reason": "休假"})
    assert response.status_code == 400
    body = html(response)
    assert '<p>提交的内容有误,请按提示修改后重新提交</p>' in body
    assert '<ul class="field-errors"><li>广州审核岗 在深圳市分公司没有处理此任务的岗位</li></ul>' in body
    assert '<div class="field has-error">\n        <label for="transfer_to">' in body
    assert 'data-testid="transfer-reason">休假</textarea>' in body  # the reason is kept
    assert TRANSFER_OPTION in body
    assert 'name="decision" value="approve" required data-testid="decision-approve"> 通过' in body  # the page is whole
    task = _task(review_task.pk)
    assert (task.status, task.assignee_id, task.claimed_at) == ("ready", None, None)
    assert Notification.objects.count() == 0
    assert not AuditEvent.objects.filter(action="task.transferred").exists()


@pytest.mark.parametrize(
    ("to", "reason", "field", "message"),
    [
        ("reviewer2.sz", "  ", "reason", "请填写原因"),
        ("", "休假", "to", "用户不存在或已停用"),
        ("nobody", "休假", "to", "用户不存在或已停用"),
        ("reviewer.sz", "休假", "to", "不能转办给自己"),
        ("collector.sz", "休假", "to", "四眼原则:不能转办给业务的提交人"),
        ("reviewer2.sz", "原因\x00", "reason", "原因不能超过 500 个字符,且不能包含控制字符"),
        ("reviewer2.sz", "长" * 501, "reason", "原因不能超过 500 个字符,且不能包含控制字符"),
    ],
)
def test_transfer_field_errors(login, reviewer2, review_task, to, reason, field, message):
    response = login("reviewer.sz").post(f"/tasks/{review_task.pk}/transfer/", {"to": to, "reason": reason})
    assert response.status_code == 400
    body = html(response)
    label = {"to": 'for="transfer_to"', "reason": 'for="transfer_reason"'}[field]
    assert f'<div class="field has-error">\n        <label {label}>' in body
    assert f'<ul class="field-errors"><li>{message}</li></ul>' in body
    assert _task(review_task.pk).assignee_id is None


def test_transfer_refusals_keep_their_status(login, reviewer2, review_task):
    # 403: 广东省审核岗 sees the 深圳 task but is no candidate for it.
    forbidden = login("reviewer.gd").post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer2.sz", "reason": "x"})
    assert forbidden.status_code == 403
    assert '<p>您不是该任务的处理人,不能转办</p>' in html(forbidden)
    # 404: another branch does not see it at all.
    missing = login("reviewer.gz").post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer2.sz", "reason": "x"})
    assert missing.status_code == 404
    assert '<p data-testid="error-message">任务不存在</p>' in html(missing)
    assert login("reviewer.sz").post("/tasks/999999/transfer/", {"to": "reviewer2.sz", "reason": "x"}).status_code == 404
    # 409: claimed by reviewer2.sz, so reviewer.sz may not hand it on.
    login("reviewer2.sz").post(f"/tasks/{review_task.pk}/claim/")
    conflict = login("reviewer.sz").post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer2.sz", "reason": "x"})
    assert conflict.status_code == 409
    body = html(conflict)
    assert '<p>任务已被 深圳复核岗 认领,只有认领人可以转办</p>' in body
    assert 'data-testid="transfer-form"' not in body
    assert _task(review_task.pk).assignee.username == "reviewer2.sz"
    # GET is not allowed.
    assert login("reviewer.sz").get(f"/tasks/{review_task.pk}/transfer/").status_code == 405
    assert Notification.objects.count() == 0


def test_transfer_of_a_done_task_is_409(login, reviewer2, review_task):
    client = login("reviewer.sz")
    client.post(f"/tasks/{review_task.pk}/", {"decision": "approve"})
    response = client.post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer2.sz", "reason": "x"})
    assert response.status_code == 409
    assert '<p>任务已处理,不能转办</p>' in html(response)


# ---- 催办 ------------------------------------------------------------------------------------


def test_remind_then_remind_again_is_rate_limited(login, reviewer2, review_task):
    client = login("collector.sz")
    response = client.post(f"/tasks/{review_task.pk}/remind/", {"message": "客户在等"})
    assert (response.status_code, response["Location"]) == (302, f"/tasks/{review_task.pk}/")
    page = html(client.get(f"/tasks/{review_task.pk}/"))
    assert '<div class="alert alert-success" role="status" data-testid="flash-success">已催办</div>' in page
    reminders = Notification.objects.filter(kind="reminder").order_by("user__username")
    assert [(n.user.username, n.task_id, n.message) for n in reminders] == [
        ("reviewer.sz", review_task.pk, "深圳采集人 催办任务“客户信息审核”:客户在等"),
        ("reviewer2.sz", review_task.pk, "深圳采集人 催办任务“客户信息审核”:客户在等"),
    ]

    again = client.post(f"/tasks/{review_task.pk}/remind/", {"message": "再催一次"})
    assert again.status_code == 429
    body = html(again)
    assert '<p>催办过于频繁:同一任务 30 分钟内只能催办一次</p>' in body
    assert 'data-testid="remind-message">' in body
    assert 'value="再催一次" data-testid="remind-message">' in body  # the message is kept
    assert Notification.objects.filter(kind="reminder").count() == 2

    # Anyone else is limited too: the interval is per task.
    assert login("officer.sz").post(f"/tasks/{review_task.pk}/remind/").status_code == 429


def test_remind_is_allowed_again_after_the_interval(login, reviewer2, review_task):
    client = login("collector.sz")
    assert client.post(f"/tasks/{review_task.pk}/remind/").status_code == 302
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=31))
    assert client.post(f"/tasks/{review_task.pk}/remind/").status_code == 302
    assert Notification.objects.filter(kind="reminder").count() == 4
    assert Notification.objects.filter(kind="reminder").first().message == "深圳采集人 催办任务“客户信息审核”"


def test_remind_refusals(login, reviewer2, review_task):
    reviewer = login("reviewer.sz")
    reviewer.post(f"/tasks/{review_task.pk}/claim/")
    own = reviewer.post(f"/tasks/{review_task.pk}/remind/")
    assert own.status_code == 400
    # "task" is no field of the form: its message is listed in the page's error box.
    assert '<ul><li>不能催办自己的任务</li></ul>' in html(own)
    too_long = login("collector.sz").post(f"/tasks/{review_task.pk}/remind/", {"message": "长" * 501})
    assert too_long.status_code == 400
    assert '<ul class="field-errors"><li>原因不能超过 500 个字符,且不能包含控制字符</li></ul>' in html(too_long)
    assert login("reviewer.gz").post(f"/tasks/{review_task.pk}/remind/").status_code == 404
    reviewer.post(f"/tasks/{review_task.pk}/", {"decision": "approve"})
    done = login("collector.sz").post(f"/tasks/{review_task.pk}/remind/")
    assert done.status_code == 409
    assert '<p>任务已处理,无需催办</p>' in html(done)
    assert Notification.objects.count() == 0


# ---- notification centre --------------------------------------------------------------------


def test_notifications_list_the_transfer_and_mark_read_clears_the_badge(login, reviewer2, review_task):
    login("reviewer.sz").post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer2.sz", "reason": "休假"})
    note = Notification.objects.get()
    client = login("reviewer2.sz")
    inbox = html(client.get("/inbox/"))
    assert BADGE.format(n=1) in inbox

    body = html(client.get("/notifications/"))
    assert '<a href="/notifications/" class="active" ' + BADGE.format(n=1) in body
    assert f'<tr id="notification-{note.pk}" class="notification-unread" data-testid="notification-{note.pk}">' in body
    assert '<td><span class="badge badge-kind badge-kind-transfer" data-kind="transfer">转办</span></td>' in body
    assert "<td>深圳审核岗 将任务“客户信息审核”转办给您:休假</td>" in body
    assert f'<td><a href="/tasks/{review_task.pk}/" data-testid="notification-task-{note.pk}">客户信息审核 #{review_task.pk}</a></td>' in body
    assert f'<td class="nowrap">{timezone.localtime(note.created_at):%Y-%m-%d %H:%M}</td>' in body
    assert f'action="/notifications/{note.pk}/read/"' in body

    response = client.post(f"/notifications/{note.pk}/read/", {"next": "/notifications/"})
    assert (response.status_code, response["Location"]) == (302, "/notifications/")
    after = html(client.get("/notifications/"))
    assert NO_BADGE in after
    assert f'<tr id="notification-{note.pk}" class="notification-read" data-testid="notification-{note.pk}">' in after
    assert f'action="/notifications/{note.pk}/read/"' not in after
    assert NO_BADGE in html(client.get("/inbox/"))
    assert Notification.objects.get(pk=note.pk).read_at is not None


def test_mark_all_read_and_unread_filter(login, reviewer2, review_task):
    login("reviewer.sz").post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer2.sz", "reason": "休假"})
    login("collector.sz").post(f"/tasks/{review_task.pk}/remind/")
    client = login("reviewer2.sz")
    assert BADGE.format(n=2) in html(client.get("/notifications/"))
    unread = html(client.get("/notifications/", {"unread": "1"}))
    assert unread.count('class="notification-unread"') == 2

    response = client.post("/notifications/read/", {"next": "/notifications/?unread=1"})
    assert (response.status_code, response["Location"]) == (302, "/notifications/?unread=1")
    body = html(client.get("/notifications/?unread=1"))
    assert '<div class="alert alert-success" role="status" data-testid="flash-success">已全部标为已读</div>' in body
    assert '<p class="empty" data-testid="notifications-empty">没有未读通知</p>' in body
    assert NO_BADGE in body
    assert html(client.get("/notifications/")).count('class="notification-read"') == 2
    assert Notification.objects.filter(user=reviewer2, read_at__isnull=True).count() == 0
    # Nothing left to mark.
    client.post("/notifications/read/")
    assert "没有未读通知</div>" in html(client.get("/notifications/"))


def test_notification_kinds_are_chinese_badges_newest_first(login, reviewer2, review_task):
    now = timezone.now()
    for minutes, kind in enumerate(["new_task", "reminder", "escalation", "transfer"]):
        Notification.objects.create(user=reviewer2, kind=kind, task=review_task, message=f"m-{kind}", created_at=now - timedelta(minutes=minutes))
    Notification.objects.create(user=reviewer2, kind="reminder", task=None, message="无任务的通知", created_at=now - timedelta(hours=1))
    body = html(login("reviewer2.sz").get("/notifications/"))
    labels = {"new_task": "新任务", "reminder": "催办提醒", "escalation": "超时上报", "transfer": "转办"}
    positions = []
    for kind, label in labels.items():
        badge = f'<span class="badge badge-kind badge-kind-{kind}" data-kind="{kind}">{label}</span>'
        assert badge in body
        positions.append(body.index(f"<td>m-{kind}</td>"))
    assert positions == sorted(positions)  # newest first
    assert '<td>无任务的通知</td>\n    <td><span class="muted">—</span></td>' in body
    assert BADGE.format(n=5) in body


def test_notifications_paginate_by_20_and_are_private(login, reviewer2, review_task):
    now = timezone.now()
    Notification.objects.bulk_create(
        [Notification(user=reviewer2, kind="reminder", task=review_task, message=f"第{i}条", created_at=now - timedelta(minutes=i)) for i in range(25)]
    )
    client = login("reviewer2.sz")
    first = html(client.get("/notifications/"))
    assert first.count('class="notification-unread"') == 20
    assert "<td>第0条</td>" in first and "<td>第19条</td>" in first and "<td>第20条</td>" not in first
    assert "<span>第 1 / 2 页</span>" in first
    assert '<a href="?page=2">下一页 &raquo;</a>' in first
    second = html(client.get("/notifications/", {"page": "2"}))
    assert second.count('class="notification-unread"') == 5
    assert "<td>第24条</td>" in second

    # Another user's notifications: not listed, not markable (404), badge untouched.
    other = login("reviewer.sz")
    assert '<p class="empty" data-testid="notifications-empty">没有通知</p>' in html(other.get("/notifications/"))
    some = Notification.objects.filter(user=reviewer2).first()
    response = other.post(f"/notifications/{some.pk}/read/")
    assert response.status_code == 404
    assert '<p data-testid="error-message">通知不存在</p>' in html(response)
    assert Notification.objects.filter(user=reviewer2, read_at__isnull=True).count() == 25
    assert other.get("/notifications/read/").status_code == 405


def test_notification_pages_require_login(seeded):
    assert Client().get("/notifications/")["Location"] == "/login/?next=/notifications/"
    assert Client().post("/notifications/read/")["Location"] == "/login/?next=/notifications/read/"


def test_top_bar_badge_costs_one_count_query(login, reviewer2, review_task):
    Notification.objects.create(user=user("reviewer2.sz"), kind="transfer", task=review_task, message="x", created_at=timezone.now())
    client = login("reviewer2.sz")
    with CaptureQueriesContext(connection) as ctx:
        body = html(client.get("/inbox/"))
    assert BADGE.format(n=1) in body
    counts = [q["sql"] for q in ctx.captured_queries if "tasks_notification" in q["sql"]]
    assert len(counts) == 1
    assert counts[0].startswith("SELECT COUNT(*)")


def test_pages_in_english(login, reviewer2, review_task):
    login("reviewer.sz").post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer2.sz", "reason": "休假"})
    client = login("reviewer2.sz")
    client.post("/i18n/setlang/", {"language": "en", "next": "/notifications/"})
    body = html(client.get("/notifications/"))
    assert 'data-testid="nav-notifications">Notifications <span class="nav-badge" data-testid="unread-count" title="Unread notifications">1</span></a>' in body
    assert 'data-testid="notifications-read-all">Mark all as read</button>' in body
    assert 'data-kind="transfer">Transfer</span>' in body
    page = html(client.get(f"/tasks/{review_task.pk}/"))
    assert '<h2 id="transfer-title">Transfer</h2>' in page
    assert '<label for="transfer_to">Transfer to <span class="req">*</span></label>' in page
    refused = client.post(f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer.sz", "reason": ""})
    assert refused.status_code == 400
    assert '<ul class="field-errors"><li>Please give a reason</li></ul>' in html(refused)


JUNK = ["", " ", "null", "-1", "9" * 40, "💥" * 50, "<script>alert(1)</script>", "'; DROP TABLE x; --", "\x00", "a" * 5000]


def test_junk_into_the_new_endpoints_never_500(login, reviewer2, review_task):
    for username in ("reviewer.sz", "collector.sz", "reviewer.gd", "reviewer.gz"):
        client = login(username)
        for value in JUNK:
            for url, data in (
                (f"/tasks/{review_task.pk}/transfer/", {"to": value, "reason": value}),
                (f"/tasks/{review_task.pk}/transfer/", {"to": "reviewer2.sz", "reason": value}),
                (f"/tasks/{review_task.pk}/remind/", {"message": value}),
                ("/notifications/read/", {"next": value}),
            ):
                response = client.post(url, data)
                assert response.status_code < 500, (username, url, value)
            assert client.get("/notifications/", {"page": value, "unread": value}).status_code == 200
        assert client.post("/notifications/0/read/").status_code == 404
    assert _task(review_task.pk).assignee.username == "reviewer2.sz"  # the one valid transfer went through


@pytest.mark.parametrize("target", ["null", "inbox", "a" * 300, "https://evil.example/", "//evil.example/x"])
def test_next_must_be_a_local_path(login, review_task, target):
    # A bare word used to reach redirect() as a URL name: NoReverseMatch, a 500.
    response = login("reviewer.sz").post(f"/tasks/{review_task.pk}/claim/", {"next": target})
    assert (response.status_code, response["Location"]) == (302, f"/tasks/{review_task.pk}/")


def test_remind_with_nobody_to_notify_says_so(login, review_task):
    # reviewer.sz is the only 深圳 reviewer: reminding the unclaimed task notifies nobody.
    response = login("reviewer.sz").post(f"/tasks/{review_task.pk}/remind/")
    assert response.status_code == 400
    body = html(response)
    assert "没有其他可以通知的处理人,催办未发出" in body
    assert "已催办" not in body
    assert Notification.objects.count() == 0
