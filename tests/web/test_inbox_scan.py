"""An inbox you can scan (issue 17 item 1): each row tells its case apart (number, kind, masked
customer, branch, step, submitter, due state, flags); a search box finds a case by number or by
the customer's name (whole or its beginning) only among the user's own rows; sort by due,
received or priority; the tabs filter and their counts come from a fragment the page polls; the
input is bounded; the page's statement count does not grow with its rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tasks.models import HumanTask
from tests.web.helpers import html, submit_opening, user

OPENING_CASE = "customers.accountopening"
NAMES = ("王测试", "李小龙", "欧阳娜娜")
MASKED = ("王*试", "李*龙", "欧**娜")


def _review(opening) -> HumanTask:
    return HumanTask.objects.get(case_type=OPENING_CASE, case_id=opening.pk, step="review", status="ready")


@pytest.fixture
def three(seeded):
    """Three openings of different customers, each waiting for review in 深圳."""
    openings = [submit_opening(seq=120 + i, name=name) for i, name in enumerate(NAMES)]
    return openings, [_review(o) for o in openings]


def _cell(body: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(?:a|td|span)>', body, re.S)
    assert match, testid
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _row_ids(body: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="inbox-row-(\d+)"', body)]


def test_rows_of_three_openings_tell_the_cases_apart(login, three):
    openings, tasks = three
    body = html(login("reviewer.sz").get("/inbox/"))
    submitter = user("collector.sz").get_full_name() or "collector.sz"
    rows = []
    for opening, task, masked in zip(openings, tasks, MASKED, strict=True):
        row = (
            _cell(body, f"case-number-{task.pk}"),
            _cell(body, f"case-kind-{task.pk}"),
            _cell(body, f"case-customer-{task.pk}"),
            _cell(body, f"case-branch-{task.pk}"),
            _cell(body, f"case-submitter-{task.pk}"),
        )
        assert row == (f"#{opening.pk}", "个人客户开户", masked, "深圳市分公司", submitter)
        rows.append(row)
    assert len(set(rows)) == 3
    # Lists are masked: no customer's whole name anywhere on the page.
    for name in NAMES:
        assert name not in body


def test_flags_show_check_d_and_blacklist(login, three):
    _, tasks = three
    HumanTask.objects.filter(pk=tasks[0].pk).update(flags=["blacklist_hit"])
    body = html(login("reviewer.sz").get("/inbox/"))
    assert _cell(body, f"case-flags-{tasks[0].pk}") == "命中黑名单"
    assert _cell(body, f"case-flags-{tasks[1].pk}") == "电话号码重复"  # check D: same phone as the first


@pytest.mark.parametrize("query", ["{pk}", "#{pk}", " {pk} ", "＃{pk}"])
def test_search_finds_a_case_by_its_number(login, three, query):
    openings, tasks = three
    body = html(login("reviewer.sz").get("/inbox/", {"q": query.format(pk=openings[1].pk)}))
    assert _row_ids(body) == [tasks[1].pk]
    assert f'value="{query.format(pk=openings[1].pk).strip()}"' in body  # the box keeps what was typed


@pytest.mark.parametrize(("query", "index"), [("李小龙", 1), ("李小", 1), ("欧阳", 2), ("王测试", 0)])
def test_search_finds_a_case_by_the_customer_name_whole_or_its_beginning(login, three, query, index):
    _, tasks = three
    body = html(login("reviewer.sz").get("/inbox/", {"q": query}))
    assert _row_ids(body) == [tasks[index].pk]
    # The row still shows the name masked, whatever was typed.
    assert _cell(body, f"case-customer-{tasks[index].pk}") == MASKED[index]
    assert NAMES[index] not in body.replace(f'value="{query}"', "")


def test_search_by_name_is_no_oracle(login, three):
    """Only a whole name or its beginning matches (not a middle part), and only among the
    user's own rows: another branch's reviewer finds nothing."""
    assert _row_ids(html(login("reviewer.sz").get("/inbox/", {"q": "小龙"}))) == []
    assert _row_ids(html(login("reviewer.sz").get("/inbox/", {"q": "%"}))) == []
    assert _row_ids(html(login("reviewer.sz").get("/inbox/", {"q": "_"}))) == []
    other = html(login("reviewer.gz").get("/inbox/", {"q": "李小龙"}))
    assert _row_ids(other) == []
    assert "李小龙" not in other.replace('value="李小龙"', "")


def test_search_keeps_finding_task_names(login, three):
    _, tasks = three
    body = html(login("reviewer.sz").get("/inbox/", {"q": "审核"}))
    assert sorted(_row_ids(body)) == sorted(t.pk for t in tasks)
    body = html(login("reviewer.sz").get("/inbox/", {"q": "没有这样的任务"}))
    assert 'data-testid="inbox-no-match"' in body


def test_sort_by_due_received_and_priority(login, three):
    _, (a, b, c) = three
    now = timezone.now()
    HumanTask.objects.filter(pk=a.pk).update(due_at=now + timedelta(hours=30), created_at=now - timedelta(hours=3))
    HumanTask.objects.filter(pk=b.pk).update(due_at=now - timedelta(hours=1), created_at=now - timedelta(hours=2), flags=[])
    HumanTask.objects.filter(pk=c.pk).update(due_at=now + timedelta(hours=40), created_at=now - timedelta(hours=1), flags=["blacklist_hit"])
    client = login("reviewer.sz")
    assert _row_ids(html(client.get("/inbox/"))) == [b.pk, a.pk, c.pk]  # due, overdue first
    assert _row_ids(html(client.get("/inbox/", {"sort": "due"}))) == [b.pk, a.pk, c.pk]
    assert _row_ids(html(client.get("/inbox/", {"sort": "received"}))) == [c.pk, b.pk, a.pk]
    # priority: a blacklist hit, then overdue or escalated, then other flags, then the rest
    assert _row_ids(html(client.get("/inbox/", {"sort": "priority"}))) == [c.pk, b.pk, a.pk]
    body = html(client.get("/inbox/", {"sort": "received"}))
    assert '<option value="received" selected>' in body


def test_tabs_filter_the_rows_and_keep_search_and_sort_in_their_links(login, three):
    _, (a, b, c) = three
    client = login("reviewer.sz")
    client.post(f"/tasks/{a.pk}/claim/")
    HumanTask.objects.filter(pk=b.pk).update(due_at=timezone.now() - timedelta(hours=1))
    HumanTask.objects.filter(pk=c.pk).update(due_at=timezone.now() + timedelta(hours=2))
    assert _row_ids(html(client.get("/inbox/", {"tab": "mine"}))) == [a.pk]
    assert sorted(_row_ids(html(client.get("/inbox/", {"tab": "group"})))) == sorted([b.pk, c.pk])
    assert _row_ids(html(client.get("/inbox/", {"tab": "overdue"}))) == [b.pk]
    assert _row_ids(html(client.get("/inbox/", {"tab": "due_soon"}))) == [c.pk]
    assert len(_row_ids(html(client.get("/inbox/", {"tab": "all"})))) == 3
    body = html(client.get("/inbox/", {"tab": "mine", "q": "审核", "sort": "received"}))
    assert 'data-testid="tab-mine" aria-current="page"' in body
    tab_link = re.search(r'href="([^"]+)" class="count count-tab count-overdue', body).group(1)
    assert tab_link.startswith("/inbox/?") and "q=%E5%AE%A1%E6%A0%B8" in tab_link and "sort=received" in tab_link and "tab=overdue" in tab_link
    assert '<input type="hidden" name="tab" value="mine">' in body  # the search stays in the tab
    assert '<b data-testid="count-mine">1</b>' in body and '<b data-testid="count-overdue">1</b>' in body


def test_pagination_keeps_tab_search_and_sort(login, seeded):
    for i in range(22):
        submit_opening(seq=200 + i, name=f"王{i:02d}")
    body = html(login("reviewer.sz").get("/inbox/", {"tab": "group", "q": "王", "sort": "received"}))
    assert len(_row_ids(body)) == 20
    nxt = re.search(r'<a href="([^"]+)">下一页', body).group(1).replace("&amp;", "&")
    assert all(part in nxt for part in ("tab=group", "q=%E7%8E%8B", "sort=received", "page=2"))


def test_counts_fragment_is_polled_and_follows_new_tasks(login, three):
    client = login("reviewer.sz")
    page = html(client.get("/inbox/", {"q": "审核"}))
    # The poll carries the page's search and the total it was rendered with.
    assert 'hx-get="/inbox/counts/?q=%E5%AE%A1%E6%A0%B8&amp;seen=3" hx-trigger="every 30s, inbox-changed from:body" hx-swap="outerHTML"' in page
    assert 'data-testid="inbox-refresh"' not in page
    fragment = client.get("/inbox/counts/", {"q": "审核", "seen": "3"})
    assert fragment.status_code == 200
    body = html(fragment)
    assert "<html" not in body and body.lstrip().startswith('<nav class="inbox-tabs" id="inbox-tabs"')
    assert '<b data-testid="count-total">3</b>' in body and 'data-testid="inbox-refresh"' not in body
    submit_opening(seq=150, name="赵新来")
    body = html(client.get("/inbox/counts/", {"q": "审核", "seen": "3"}))
    assert '<b data-testid="count-total">4</b>' in body
    # Another total than the page's: a link refreshes the rows (same search, no `seen`).
    assert '<a href="/inbox/?q=%E5%AE%A1%E6%A0%B8" class="inbox-refresh" role="status" data-testid="inbox-refresh">待办有变化，点击刷新列表</a>' in body
    assert "seen=3" in body.split("hx-get=")[1].split(" ")[0]  # the next poll still compares with the page
    assert '<b data-testid="count-total">0</b>' in html(login("reviewer.gz").get("/inbox/counts/", {"seen": "x" * 50}))


def test_counts_fragment_needs_a_login(client, seeded):
    response = client.get("/inbox/counts/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "王" * 5000},
        {"q": "\x00\x01'\"<script>"},
        {"q": "9" * 40},
        {"q": "#"},
        {"sort": "'; DROP TABLE"},
        {"tab": "nope"},
        {"tab": ["mine", "all"], "sort": ["received", "bad"]},
        {"page": "abc"},
        {"process": "x" * 1000},
    ],
)
def test_bad_or_huge_input_never_fails(login, three, params):
    response = login("reviewer.sz").get("/inbox/", params)
    assert response.status_code == 200
    body = html(response)
    if "q" in params and len(params["q"]) > 100:
        value = re.search(r'name="q" value="([^"]*)"', body).group(1)
        assert value == "王" * 100
    assert "<script>" not in body.split("<main", 1)[1].split("</main>")[0].replace("<script src", "")
    assert login("reviewer.sz").get("/inbox/counts/", params).status_code == 200


def _statements(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/inbox/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_statement_count_does_not_grow_with_the_rows(login, seeded):
    """5 rows or a full page of 20 (of 25): the same statements — one case query per case
    model on the page, never one per row (issue 19 P4)."""
    for i in range(5):
        submit_opening(seq=300 + i, name=f"李{i:02d}")
    client = login("reviewer.sz")
    client.get("/inbox/")  # warm the session
    few = _statements(client)
    for i in range(20):
        submit_opening(seq=400 + i, name=f"张{i:02d}")
    many = _statements(client)
    assert len(_row_ids(html(client.get("/inbox/")))) == 20
    assert many == few, (few, many)
