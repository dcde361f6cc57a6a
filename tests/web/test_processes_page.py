"""流程 page: the definitions list, diagram upload and test instances (process owners only)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.web.helpers import html

pytestmark = pytest.mark.django_db


def test_processes_page_upload_and_test_instance(login):
    client = login("owner.ho")
    body = html(client.get("/processes/"))
    assert '<td class="mono">individual_account_opening</td>' in body
    bad = client.post("/processes/upload/", {"file": SimpleUploadedFile("x.bpmn", b"<not-bpmn", content_type="text/xml")})
    assert bad.status_code == 400
    assert 'data-testid="upload-problems"' in html(bad)
    wrong_ext = client.post("/processes/upload/", {"file": SimpleUploadedFile("x.txt", b"hello")})
    assert wrong_ext.status_code == 400
    assert "请上传 .bpmn 文件" in html(wrong_ext)
    bad_json = client.post("/processes/test-instance/", {"process": "individual_account_opening", "data": "{oops"})
    assert bad_json.status_code == 400
    assert "不是有效的 JSON" in html(bad_json)
    not_object = client.post("/processes/test-instance/", {"process": "individual_account_opening", "data": "[1]"})
    assert not_object.status_code == 400
    assert "启动数据必须是 JSON 对象" in html(not_object)


def test_processes_hostile_input_never_500(login):
    client = login("owner.ho")
    shipped = (settings.BASE_DIR / "bpmn/account_opening/individual_account_opening.bpmn").read_bytes()
    # A well-formed diagram in another encoding (the service decodes the XML as UTF-8).
    latin1 = shipped.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"').replace("个人客户开户".encode(), b"Caf\xe9")
    for content in (b"", b"\x00\xff" * 50, b"<?xml version='1.0'?><a/>"):
        response = client.post("/processes/upload/", {"file": SimpleUploadedFile("d.bpmn", content)})
        assert response.status_code == 400, content
    response = client.post("/processes/upload/", {"file": SimpleUploadedFile("latin1.bpmn", latin1)})
    # Today a 400 with a message; once the service stores non-UTF-8 diagrams, a deploy (302).
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert "流程图文件须为 UTF-8 编码" in html(response)
    deep = client.post("/processes/test-instance/", {"process": "individual_account_opening", "data": "[" * 100_000})
    assert deep.status_code == 400
    assert "JSON 嵌套层次过深" in html(deep)
    unknown = client.post("/processes/test-instance/", {"process": "nope", "data": "{}"})
    assert unknown.status_code == 400
    assert "流程“nope”未部署" in html(unknown)


def test_processes_upload_refused_for_non_owner(login):
    response = login("reviewer.sz").post("/processes/upload/", {"file": SimpleUploadedFile("x.bpmn", b"<x/>")})
    assert response.status_code == 403
    assert "只有流程管理员可以执行此操作" in html(response)


SMOKE_DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="web_smoke" name="\xe7\xbd\x91\xe9\xa1\xb5\xe5\x86\x92\xe7\x83\x9f" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script" />
    <bpmn:scriptTask id="script" name="s"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>doubled = amount * 2</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="end" />
    <bpmn:endEvent id="end" name="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_upload_then_start_a_test_instance(login):
    client = login("owner.ho")
    response = client.post("/processes/upload/", {"file": SimpleUploadedFile("smoke.bpmn", SMOKE_DIAGRAM)}, follow=True)
    assert response.redirect_chain == [("/processes/", 302)]
    body = html(response)
    assert "已部署 web_smoke 版本 1" in body
    assert '<td class="mono">web_smoke</td><td>网页冒烟</td><td>v1</td>' in body
    again = client.post("/processes/upload/", {"file": SimpleUploadedFile("smoke.bpmn", SMOKE_DIAGRAM)}, follow=True)
    assert "内容未变化:web_smoke 版本 1 已部署" in html(again)
    started = client.post("/processes/test-instance/", {"process": "web_smoke", "data": '{"amount": 21}'})
    assert started.status_code == 200
    page = html(started)
    assert 'data-testid="test-instance"' in page
    assert "状态: 已完成" in page
