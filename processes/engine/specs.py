"""SpiffWorkflow classes the adapter customises: the service task and the parser."""

from __future__ import annotations

from copy import deepcopy

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask

from .errors import EngineError
from .guards import SandboxViolation
from .jsondata import check_json


class ServiceTask(SpiffServiceTask):
    """Service task whose operation is called through the engine's ``service_caller``.

    Parameters are sandboxed expressions; the dict the caller returns is merged into the task
    data, and also stored under ``resultVariable`` when the diagram names one. Same class name as
    SpiffWorkflow's, so serialized specs keep the standard ``ServiceTask`` typename.
    """

    def _names_result_variable(self) -> bool:
        return self.result_variable != f"spiff__{self.name.replace('-', '_')}_result"

    def _execute(self, task):
        engine = task.workflow.script_engine
        params = {
            name: engine.evaluate(task, param["value"]) for name, param in self.operation_params.items()
        }
        result = engine.call_service(task, operation_name=self.operation_name, operation_params=params)
        if result is None:
            return True
        if not isinstance(result, dict):
            raise EngineError(
                f"service operation '{self.operation_name}' returned a {type(result).__name__}; "
                "expected a dict or None",
                element=self.bpmn_id,
            )
        try:
            check_json(result, f"the result of '{self.operation_name}'")
        except SandboxViolation as exc:
            raise EngineError(exc.message, element=self.bpmn_id) from None
        task.data.update(deepcopy(result))
        if self._names_result_variable():
            task.data[self.result_variable] = deepcopy(result)
        return True


class Parser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, ServiceTask),
    }
