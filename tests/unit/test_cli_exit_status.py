"""The exit status and the one line of every ``voxregen`` command when it fails:
:func:`voxregen.cli.run` turns whatever a command lets escape into one line on stderr
(the user's mistakes, which a command reports itself with ``fail``, stay exit 2). Each
command's function is replaced by one that fails; the real command's failures through its
real process are in tests/integration (test_cli.py, test_serve.py, test_schema.py)."""

import importlib
import uuid

import pytest

from voxregen.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, fail, run
from voxregen_core.errors import GeneratorError

COMMANDS = {
    "render": (("render", "in.wav", "-o", "out.wav"), "render:render_command"),
    "migrate": (("migrate",), "database:migrate_command"),
    "seed": (("seed",), "database:seed_command"),
    "api": (("api",), "processes:api_command"),
    "worker": (("worker",), "processes:worker_command"),
    "serve": (("serve",), "processes:serve_command"),
    "remote render": (
        ("remote", "render", "in.wav", "--profile", str(uuid.UUID(int=1)), "-o", "out.wav"),
        "remote:render_command",
    ),
    "remote jobs list": (("remote", "jobs", "list"), "remote:jobs_list_command"),
}


def _generator_fault(args) -> None:
    raise GeneratorError("generator returned NaN or Inf in chunk 3")


def _bug(args) -> None:
    raise KeyError("chunk_ms")


def _bug_with_a_long_message(args) -> None:
    raise RuntimeError("first line\n  second line\n")


def _bug_without_a_message(args) -> None:
    raise RuntimeError


def _ctrl_c(args) -> None:
    raise KeyboardInterrupt


def _usage(args) -> None:
    fail("cannot read in.wav: no such file")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("failing", "status", "says"),
    [
        (
            _generator_fault,
            EXIT_FAILED,
            "voxregen: error: generator returned NaN or Inf in chunk 3 [generator_error]\n",
        ),
        (
            _bug,
            EXIT_FAILED,
            "voxregen: error: internal error: KeyError: 'chunk_ms' [internal_error]\n",
        ),
        (
            _bug_with_a_long_message,
            EXIT_FAILED,
            "voxregen: error: internal error: RuntimeError: first line second line [internal_error]\n",
        ),
        (
            _bug_without_a_message,
            EXIT_FAILED,
            "voxregen: error: internal error: RuntimeError [internal_error]\n",
        ),
        (_ctrl_c, EXIT_INTERRUPTED, "voxregen: interrupted\n"),
    ],
)
def test_what_escapes_a_command_is_one_line_and_a_status_that_is_not_2(
    command, failing, status, says, monkeypatch, capsys
):
    argv, handler = COMMANDS[command]
    _replace(monkeypatch, handler, failing)
    assert run(list(argv)) == status
    assert capsys.readouterr() == ("", says)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_that_fails_on_its_input_exits_2(command, monkeypatch, capsys):
    argv, handler = COMMANDS[command]
    _replace(monkeypatch, handler, _usage)
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    assert exit_info.value.code == EXIT_USAGE
    assert capsys.readouterr() == ("", "voxregen: error: cannot read in.wav: no such file\n")


def _replace(monkeypatch: pytest.MonkeyPatch, handler: str, function) -> None:
    module_name, function_name = handler.split(":")
    module = importlib.import_module(f"voxregen.cli.{module_name}")
    monkeypatch.setattr(module, function_name, function)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ((), "{render,migrate,seed,api,worker,serve,keys,remote}"),
        (("keys",), "keys: the following arguments are required: {create,list,revoke}"),
        (("remote", "jobs"), "remote jobs: the following arguments are required: "),
    ],
)
def test_a_missing_subcommand_is_named_by_its_choices(argv, says, capsys):
    with pytest.raises(SystemExit) as exited:
        run(list(argv))
    assert exited.value.code == EXIT_USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("voxregen: error: ") and says in line, line
    assert line.endswith("}"), line
