"""botocore / Amazon Bedrock: the Stubber answers ``converse`` with Bedrock's error codes, so
botocore builds its own generated exception classes (``ThrottlingException``...), which are
subclasses of ``botocore.exceptions.ClientError`` and not causes of it."""

from __future__ import annotations

import boto3
from _scenario import report, run, run_wrapped
from botocore.config import Config
from botocore.stub import Stubber


def _bedrock():
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKIATESTTESTTESTTEST",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def _converse_error(code: str, message: str, status: int):
    def call() -> None:
        client = _bedrock()
        with Stubber(client) as stubber:
            stubber.add_client_error(
                "converse",
                service_error_code=code,
                service_message=message,
                http_status_code=status,
            )
            client.converse(
                modelId="anthropic.claude-sonnet-4-5-v1:0",
                messages=[{"role": "user", "content": [{"text": "hello"}]}],
            )

    return call


run(
    "throttling",
    _converse_error(
        "ThrottlingException", "Too many requests, please wait before trying again.", 429
    ),
)
run(
    "access_denied",
    _converse_error(
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
        403,
    ),
    via="log",
)
run(
    "context_length",
    _converse_error("ValidationException", "Input is too long for requested model.", 400),
    via="track",
)
run(
    "validation",
    _converse_error("ValidationException", "The provided model identifier is invalid.", 400),
)
run(
    "model_not_ready",
    _converse_error(
        "ModelNotReadyException", "Model is not ready to serve inference requests.", 429
    ),
    via="span",
)
run(
    "service_unavailable",
    _converse_error(
        "ServiceUnavailableException",
        "The service is temporarily unable to handle the request.",
        503,
    ),
)
run("not_found", _converse_error("ResourceNotFoundException", "Model not found.", 404))
run(
    "model_timeout",
    _converse_error("ModelTimeoutException", "Model has timed out in processing the request.", 408),
    via="track",
)


def _converse_without_model_id() -> None:
    # botocore checks the parameters against the operation's shape before anything is sent (a
    # Stubber would answer first, so none here; the endpoint is local in case it ever sent).
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKIATESTTESTTESTTEST",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    client.converse(messages=[{"role": "user", "content": [{"text": "hello"}]}])


run("param_validation", _converse_without_model_id, via="log")
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped("throttling", "service_unavailable", "context_length", "access_denied")
report()
