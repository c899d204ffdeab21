"""chatpipe.cli._options: the shared options, declared once and handed on as one value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from chatpipe.cli import cli
from chatpipe.cli._options import PipelineChoice, call_options, message_options, pipeline_options
from click.testing import CliRunner

PIPELINE_PARAMS = ("profile", "provider", "model", "converters", "base_url")


def pipeline_params(command: click.Command) -> list[dict[str, Any]]:
    return [p.to_info_dict() for p in command.params if p.name in PIPELINE_PARAMS]


@pytest.mark.parametrize("name", ["explain", "test", "batch"])
def test_every_pipeline_command_takes_the_same_profile_options(name: str) -> None:
    expected = pipeline_params(cli.commands["chat"])
    assert [p["name"] for p in expected] == list(PIPELINE_PARAMS)
    assert pipeline_params(cli.commands[name]) == expected


@pytest.mark.parametrize("name", ["models", "check"])
def test_commands_that_send_no_conversation_take_the_same_options_but_converter(name: str) -> None:
    expected = [p for p in pipeline_params(cli.commands["chat"]) if p["name"] != "converters"]
    assert pipeline_params(cli.commands[name]) == expected
    result = CliRunner().invoke(cli, [name, "--provider", "custom", "--converter", "strict"])
    assert result.exit_code == 2 and "No such option '--converter'" in result.output


def test_the_options_reach_the_command_as_one_choice() -> None:
    @click.command()
    @pipeline_options
    @click.option("--flag", is_flag=True)
    def probe(pipeline: PipelineChoice, flag: bool) -> None:
        click.echo(json.dumps([*pipeline, flag], default=str))

    args = ["-p", "work", "-m", "m1", "--converter", "strict", "--converter", "merge", "--base-url", "http://h/v1"]
    result = CliRunner().invoke(probe, [*args, "--flag"], obj={"config_path": Path("c.yaml")})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        "c.yaml",
        "work",
        None,
        "m1",
        ["strict", "merge"],
        "http://h/v1",
        [],
        None,
        True,
    ]


def test_the_call_options_join_the_choice() -> None:
    @click.command()
    @pipeline_options
    @call_options
    def probe(pipeline: PipelineChoice) -> None:
        click.echo(json.dumps([pipeline.params, pipeline.api_key]))

    args = ["-o", "temperature", "0.2", "-o", "stop", '["x"]', "-o", "user", "me", "--max-tokens", "9", "--key", "k"]
    result = CliRunner().invoke(probe, args, obj={"config_path": None})
    assert result.exit_code == 0, result.output
    params = [["temperature", 0.2], ["stop", ["x"]], ["user", "me"], ["max_tokens", 9]]
    assert json.loads(result.output) == [params, "k"]
    refused = CliRunner().invoke(probe, ["--max-tokens", "0"], obj={"config_path": None})
    assert refused.exit_code == 2 and "--max-tokens" in refused.output


def test_the_conversation_reaches_the_command_read() -> None:
    @click.command()
    @message_options
    def probe(messages: list[dict[str, Any]]) -> None:
        click.echo(json.dumps(messages))

    result = CliRunner().invoke(probe, ["-s", "be brief", "Hi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Hi"}]
