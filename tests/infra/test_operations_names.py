"""The operator tools (tools/operations) find a deployed stage's bus, functions and dead-letter queues
by name: the names they compute are the names the synthesized stack gives them."""

from __future__ import annotations

from infra import catalog
from tests.infra.stacks import Stage
from tools.operations.deployment import aws, rule_functions


def test_the_tools_name_the_bus_functions_and_dead_letter_queues_as_deployed(stage: Stage) -> None:
    deployment = aws(stage.name, region="eu-west-1")  # a session only: no credentials, no request
    (bus,) = stage.of_type("AWS::Events::EventBus").values()
    functions = {r["Properties"].get("FunctionName") for r in stage.of_type("AWS::Lambda::Function").values()}
    queues = {r["Properties"].get("QueueName") for r in stage.of_type("AWS::SQS::Queue").values()}

    assert bus["Properties"]["Name"] == deployment.bus
    assert {deployment.function_name(f.name) for f in catalog.FUNCTIONS} <= functions
    assert {deployment.dead_letter_queue_name(f.name) for f in rule_functions()} <= queues
    for fn in catalog.subscribers():
        arn = f"arn:aws:lambda:eu-west-1:111122223333:function:{deployment.function_name(fn.name)}"
        assert deployment.delivers_to(arn, fn.name)
