"""chatpipe.cli._options: the shared options, declared once and handed on as one value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from chatpipe.cli import cli
from chatpipe.cli._options import PipelineChoice, message_options, pipeline_options
from click.testing import CliRunner

PIPELINE_PARAMS = ("profile", "provider", "model", "converters", "base_url")


def pipeline_params(command: click.Command) -> list[dict[str, Any]]:
    return [p.to_info_dict() for p in command.params if p.name in PIPELINE_PARAMS]


@pytest.mark.parametrize("name", ["chat", "explain", "check", "test"])
def test_every_pipeline_command_takes_the_same_profile_options(name: str) -> None:
    expected = pipeline_params(cli.commands["models"])
    assert [p["name"] for p in expected] == list(PIPELINE_PARAMS)
    assert pipeline_params(cli.commands[name]) == expected


def test_the_options_reach_the_command_as_one_choice() -> None:
    @click.command()
    @pipeline_options
    @click.option("--flag", is_flag=True)
    def probe(pipeline: PipelineChoice, flag: bool) -> None:
        click.echo(json.dumps([*pipeline, flag], default=str))

    args = ["-p", "work", "-m", "m1", "--converter", "strict", "--converter", "merge", "--base-url", "http://h/v1"]
    result = CliRunner().invoke(probe, [*args, "--flag"], obj={"config_path": Path("c.yaml")})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == ["c.yaml", "work", None, "m1", ["strict", "merge"], "http://h/v1", True]


def test_the_conversation_reaches_the_command_read() -> None:
    @click.command()
    @message_options
    def probe(messages: list[dict[str, Any]]) -> None:
        click.echo(json.dumps(messages))

    result = CliRunner().invoke(probe, ["-s", "be brief", "Hi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Hi"}]
