"""Whatever a process owner uploads gets a clear 400 with field messages, never a 500."""

from __future__ import annotations

import copy

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from processes.models import ProcessDraft, ProcessVersion
from tests.fixtures.diagrams import HEADER, script_diagram, user_task_diagram

pytestmark = pytest.mark.django_db

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="bomb" name="&lol9;" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process></bpmn:definitions>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="xxe" name="&xxe;" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process></bpmn:definitions>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x"/>
"""

GBK_DIAGRAM = script_diagram("y = 2", name="脚本测试").decode().replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")


def upload(client, content: bytes, name: str = "test.bpmn"):
    return client.post("/api/process-definitions/", {"file": SimpleUploadedFile(name, content, "application/xml")}, format="multipart")


def assert_clear_400(resp, needle: str) -> None:
    assert resp.status_code == 400, resp.content
    messages = resp.json()["file"]
    assert all(isinstance(m, str) and m for m in messages)
    assert any(needle.lower() in m.lower() for m in messages), messages


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "UTF-8"),
        (b"just some text, not XML", "not well-formed"),
        (b"<html><body>hello</body></html>", "not a BPMN"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "not a BPMN"),
        (HEADER.encode() + b"</bpmn:definitions>", "no executable process"),
        (BILLION_LAUGHS, "DOCTYPE"),
        (EXTERNAL_ENTITY, "DOCTYPE"),
        (PARAMETER_ENTITY, "DOCTYPE"),
        (GBK_DIAGRAM, "UTF-8"),
        (user_task_diagram(form="account_opening/no_such_form"), "account_opening/no_such_form"),
    ],
    ids=["binary", "text", "html", "svg", "no-process", "billion-laughs", "external-entity", "parameter-entity", "gbk", "missing-form"],
)
def test_bad_uploads_get_a_clear_400(api, content, needle):
    before = ProcessVersion.objects.count()
    assert_clear_400(upload(api("owner.ho"), content), needle)
    assert ProcessVersion.objects.count() == before


def test_size_limit_is_a_setting(api, settings):
    custflow = copy.deepcopy(settings.CUSTFLOW)
    custflow["MAX_DIAGRAM_BYTES"] = 2048
    settings.CUSTFLOW = custflow
    padding = b"<!--" + b"x" * 4096 + b"-->"
    big = script_diagram("y = 2").replace(b"</bpmn:definitions>", padding + b"</bpmn:definitions>")
    assert_clear_400(upload(api("owner.ho"), big), "2 KB")
    assert upload(api("owner.ho"), script_diagram("y = 2")).status_code == 201


def test_drafts_record_the_same_problems_without_a_500(api):
    for content in (BILLION_LAUGHS, EXTERNAL_ENTITY, b"not xml", GBK_DIAGRAM.decode("gbk").encode()):
        resp = api("owner.ho").post("/api/processes/drafts/", {"key": "bomb", "bpmn_xml": content.decode()}, format="json")
        assert resp.status_code == 201, resp.content
        assert resp.json()["problems"] and resp.json()["can_request_publish"] is False
    assert ProcessDraft.objects.filter(key="bomb").count() == 4


def test_wrong_extension_is_refused(api):
    assert_clear_400(upload(api("owner.ho"), script_diagram("y = 2"), name="diagram.exe"), ".bpmn")
