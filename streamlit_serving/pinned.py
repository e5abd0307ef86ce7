"""The production-critical Streamlit options the serving layer pins: the one home of their values.

Streamlit reads up to three ``config.toml`` files, each over the one before (``config.py``,
``get_config_files``): ``~/.streamlit/``, the working directory's ``.streamlit/`` and the main
script's ``.streamlit/`` (the app's own; the same file, read once, as the serving layer runs the
app from its own directory). Then come the
``STREAMLIT_*`` environment variables and the command line's flags, over every file. So an app
that ships ``enableXsrfProtection = false`` would get exactly that. Here the options below are
passed to Streamlit as command-line flags after every other (``serve.py``): the last flag wins,
over any file and variable, and Streamlit applies its flags again whenever it re-reads a config
file (``bootstrap._install_config_watchers``).

| option                       | pinned to  | why                                                        |
|------------------------------|------------|------------------------------------------------------------|
| server.enableXsrfProtection  | true       | the socket and uploads need the XSRF cookie's token        |
| server.enableCORS            | true       | no cross-origin requests (XSRF protection implies it)       |
| client.showErrorDetails      | none       | no stack traces in the browser; they go to the log         |
| client.toolbarMode           | viewer     | no Deploy button or developer menu for visitors            |
| server.headless              | true       | no browser, no e-mail prompt                               |
| server.fileWatcherType       | none       | code does not change in production; watching costs CPU     |
| server.runOnSave             | false      | idem                                                       |
| browser.gatherUsageStats     | false      | no telemetry from a production server                      |
| server.maxUploadSize         | <= 16 (MB) | nginx's client_max_body_size: a bigger body never arrives  |
|                              |            | (the app's serving.toml ``[limits] upload_mb``, 1..1024,   |
|                              |            | sets both: the proxy's PROXY_UPLOAD_MB and this cap)       |
| server.maxMessageSize        | <= 4 (MB)  | no client makes a replica buffer 200 MB (docs/operations.md)|
|                              |            | (the app's ``[limits] message_mb``, 1..200, sets the cap)  |

The two sizes are caps: a value at or below the cap, from any file, variable or flag, is kept (an
app may lower them); a bigger one is lowered to the cap. Given nowhere, each is its cap. The caps
are 16 and 4 unless the app's ``serving.toml`` (app_settings.py), read at start from the app's
directory (the main script's, or the folder ``APP_MAIN`` is relative to), has a ``[limits]``
table; a bad value there stops the start (exit 64, naming the file and the key). Each value
overridden is logged, one line per option, naming where it came from. A config file that is not
valid TOML stops the start (exit 64, naming it): Streamlit itself logs the parse error and drops
the whole file, every other option in it with it. An app's other options (its theme, ...) stay its
own.

The template's production defaults an app may change (``.streamlit/config.toml`` at the template's
root, beside this package: ``server.disconnectedSessionTTL``, ``runner.postScriptGC``,
``logger.level``) are passed the same way, as flags before the pinned ones, but each only when
nothing else sets that option: no config file Streamlit reads (``~/.streamlit``, the working
directory's, the app's own), no ``STREAMLIT_*`` variable, no flag. So an app's own value wins and
the template's applies where the app says nothing. The serving layer runs the app from its own
directory (``serve.py``), where Streamlit reads the app's config.toml alone; the template's file is
read here, never by Streamlit. While the app runs, an
``st.set_option`` on a pinned option (Streamlit lets a script set ``client.showErrorDetails`` and
``client.toolbarMode``) is ignored and logged (``guard_set_option``).
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from .app_settings import (
    DEFAULT_MESSAGE_MB,
    DEFAULT_UPLOAD_MB,
    SETTINGS_FILE,
    AppSettingsError,
    Limits,
    load_limits,
)
from .settings import SettingsError

# The proxy's default request body limit (its entrypoint's PROXY_UPLOAD_MB, rendered as
# client_max_body_size, in MB): the default cap of server.maxUploadSize. An app's serving.toml
# ([limits] upload_mb) sets both to its own value (app_settings.py).
PROXY_BODY_LIMIT_MB = DEFAULT_UPLOAD_MB
# The default cap of server.maxMessageSize (MB; Streamlit's default 200), the largest WebSocket message
# each way: a bigger incoming frame closes that socket (1009) before it is parsed; a bigger
# outgoing message becomes an error in the page. The example app's largest: 0.51 MB sent (the
# month's table and chart at 1,000 products), 0.3 kB received (a rerun); scripts/bench/bench_messages.py
# measures them. 4 MB keeps ~8x room for the server's own messages, and no client can make a
# replica buffer 200 MB. Raise it for data with more than ~7,000 products (the month's table grows
# ~0.5 kB a product; or the app's serving.toml: [limits] message_mb). (docs/operations.md)
MESSAGE_LIMIT_MB = DEFAULT_MESSAGE_MB
CONFIG_FILE = "config.toml"
PINNED = "production"  # said in every override line
# The template's production defaults an app may change (see the module docstring): the image
# copies the file beside streamlit_serving/, as it sits in the repository.
TEMPLATE_CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / CONFIG_FILE


def env_var(key: str) -> str:
    """Streamlit's variable for the option ``key`` (``ConfigOption.env_var``)."""
    snake = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", key.replace(".", "_"))
    return "STREAMLIT_" + re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", snake).upper()


@dataclass(frozen=True)
class Pin:
    key: str  # section.option
    value: bool | str | int  # the pinned value, or the cap of a capped option
    capped: bool = False  # a whole number of MB, the given one kept when it is 1..value
    source: str = f"{PINNED}: streamlit_serving/pinned.py"  # where the value (the cap) comes from

    @property
    def env_var(self) -> str:
        """Streamlit's variable for the option (``ConfigOption.env_var``)."""
        return env_var(self.key)

    @property
    def flag(self) -> str:
        return f"--{self.key}"


PINS: tuple[Pin, ...] = (
    Pin("server.enableXsrfProtection", True),
    Pin("server.enableCORS", True),
    Pin("client.showErrorDetails", "none"),
    Pin("client.toolbarMode", "viewer"),
    Pin("server.headless", True),
    Pin("server.fileWatcherType", "none"),
    Pin("server.runOnSave", False),
    Pin("browser.gatherUsageStats", False),
    Pin("server.maxUploadSize", PROXY_BODY_LIMIT_MB, capped=True),
    Pin("server.maxMessageSize", MESSAGE_LIMIT_MB, capped=True),
)

_TRUE = {"1", "true", "t", "yes", "y", "on"}  # click's BOOL, as Streamlit's flags parse them
_FALSE = {"0", "false", "f", "no", "n", "off"}


@dataclass(frozen=True)
class Given:
    value: object
    where: str  # a config file's path, an environment variable or "the command line"


def config_files(script: Path, home: Path | None = None, cwd: Path | None = None) -> list[Path]:
    """The config files Streamlit reads for ``script``, first to last (later ones win)."""
    home = Path(os.path.expanduser("~")) if home is None else home
    cwd = Path.cwd() if cwd is None else cwd
    files = [home / ".streamlit" / CONFIG_FILE, cwd / ".streamlit" / CONFIG_FILE]
    own = Path(os.path.abspath(script)).parent / ".streamlit" / CONFIG_FILE
    return files if own in files else [*files, own]


def read_config(path: Path) -> dict[str, object]:
    """The options of one config file as ``section.option`` -> value (nested theme sections
    flattened as Streamlit does); SettingsError naming the file when it is not valid TOML."""
    try:
        parsed = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(
            f"{path} is not valid TOML ({error}); Streamlit would drop every option in it"
        ) from error
    options: dict[str, object] = {}

    def flatten(prefix: str, table: Mapping[str, object]) -> None:
        for name, value in table.items():
            if isinstance(value, dict):
                flatten(f"{prefix}{name}.", value)
            else:
                options[f"{prefix}{name}"] = value

    flatten("", parsed)
    return options


def command_line_options(argv: Sequence[str]) -> dict[str, str]:
    """``--section.option value`` and ``--section.option=value`` in ``argv`` (before ``--``)."""
    args = list(argv)
    if "--" in args:
        args = args[: args.index("--")]
    found: dict[str, str] = {}
    for index, arg in enumerate(args):
        if not arg.startswith("--") or "." not in arg:
            continue
        name, equals, value = arg[2:].partition("=")
        if not equals:
            if index + 1 >= len(args):
                continue
            value = args[index + 1]
        found[name] = value
    return found


def given_values(files: Sequence[Path], env: Mapping[str, str], argv: Sequence[str]) -> dict[str, Given]:
    """What the files, the environment and the command line set for each pinned option, as
    Streamlit would see it: the last file, then a variable, then a flag wins."""
    given: dict[str, Given] = {}
    for path in files:
        if path.is_file():
            options = read_config(path)
            for pin in PINS:
                if pin.key in options:
                    given[pin.key] = Given(options[pin.key], str(path))
    flags = command_line_options(argv)
    for pin in PINS:
        if pin.env_var in env:
            given[pin.key] = Given(env[pin.env_var], pin.env_var)
        if pin.key in flags:
            given[pin.key] = Given(flags[pin.key], "the command line")
    return given


def _same(pin: Pin, value: object) -> bool:
    if isinstance(pin.value, bool):
        if isinstance(value, str):
            return value.strip().lower() in (_TRUE if pin.value else _FALSE)
        return value is pin.value
    return isinstance(value, str) and value == pin.value


def _size(pin: Pin, given: Given) -> int:
    value = given.value
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(
            f"{given.where} sets {pin.key}={_shown(given.value)}: it must be a whole number of MB, "
            f"1 to {pin.value} (the cap: {pin.source})"
        )
    return value


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else str(value)


def _flag_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Resolved:
    values: dict[str, bool | str | int]  # every pinned option's value for this start
    overrides: list[str]  # one line per option whose given value was overridden

    @property
    def flags(self) -> list[str]:
        return [f"--{key}={_flag_value(value)}" for key, value in self.values.items()]


def app_pins(limits: Limits, settings_file: Path) -> tuple[Pin, ...]:
    """PINS with the capped sizes the app's ``[limits]`` sets (those it leaves at the default
    keep the serving layer's cap and its wording)."""
    caps = {"server.maxUploadSize": ("upload_mb", limits.upload_mb),
            "server.maxMessageSize": ("message_mb", limits.message_mb)}  # fmt: skip
    pins = []
    for pin in PINS:
        key, cap = caps.get(pin.key, ("", pin.value))
        if pin.capped and cap != pin.value:
            pin = replace(pin, value=cap, source=f"the app's {settings_file}: [limits] {key}")
        pins.append(pin)
    return tuple(pins)


def app_directory(script: Path, env: Mapping[str, str]) -> Path:
    """The app's directory, where its serving.toml is (app_source.py's APP_DIR): the main script's,
    or, when APP_MAIN (relative to the app's directory, as the image's entrypoint and ``make run``
    set it) names the script in a sub-folder, the folder it is relative to."""
    script = Path(os.path.abspath(script))
    main = PurePosixPath(env.get("APP_MAIN", "").strip() or script.name)
    depth = len(main.parts)
    if 0 < depth < len(script.parts) and script.parts[-depth:] == main.parts:
        return script.parents[depth - 1]
    return script.parent


def resolve(given: Mapping[str, Given], pins: Sequence[Pin] = PINS) -> Resolved:
    """The value of each pinned option for this start, and a line for each one overridden.
    SettingsError when a capped option's given value is not a whole number of MB."""
    values: dict[str, bool | str | int] = {}
    overrides: list[str] = []
    for pin in pins:
        value = pin.value
        setting = given.get(pin.key)
        if setting is not None and pin.capped:
            size = _size(pin, setting)
            value = min(size, int(pin.value))
            if size > int(pin.value):
                overrides.append(
                    f"serve: {setting.where} sets {pin.key}={size}; capped to {pin.value} ({pin.source})"
                )
        elif setting is not None and not _same(pin, setting.value):
            overrides.append(
                f"serve: {setting.where} sets {pin.key}={_shown(setting.value)}; pinned to "
                f"{_shown(pin.value)} ({PINNED}: streamlit_serving/pinned.py)"
            )
        values[pin.key] = value
    return Resolved(values, overrides)


@dataclass(frozen=True)
class Defaults:
    values: dict[str, object]  # the template's defaults passed as flags (set nowhere else)
    kept: dict[str, Given]  # the template's options something else sets, and where

    @property
    def flags(self) -> list[str]:
        return [f"--{key}={_flag_value(value)}" for key, value in self.values.items()]

    def notice(self, template: Path = TEMPLATE_CONFIG) -> str:
        """The start's line: which of the template's defaults apply, which the app (or another
        source) sets itself."""
        applied = ", ".join(f"{key}={_shown(value)}" for key, value in self.values.items()) or "none"
        line = f"serve: the template's defaults ({template}): {applied}"
        if self.kept:
            own = ", ".join(f"{key} by {given.where}" for key, given in self.kept.items())
            line += f"; set elsewhere, so not the template's: {own}"
        return line


def template_defaults(
    files: Sequence[Path], env: Mapping[str, str], argv: Sequence[str], template: Path = TEMPLATE_CONFIG
) -> Defaults:
    """The template's defaults (``template``, none when it is missing), each kept unless a config
    file Streamlit reads, a variable or a flag sets that option. SettingsError naming a file that is
    not valid TOML."""
    if not template.is_file():
        return Defaults({}, {})
    defaults = read_config(template)
    given: dict[str, Given] = {}
    for path in files:
        if path.is_file() and path.resolve() != template.resolve():  # run from the template's root
            for key in read_config(path).keys() & defaults.keys():
                given[key] = Given(None, str(path))
    flags = command_line_options(argv)
    for key in defaults:
        if env_var(key) in env:
            given[key] = Given(env[env_var(key)], env_var(key))
        if key in flags:
            given[key] = Given(flags[key], "the command line")
    values = {key: value for key, value in defaults.items() if key not in given}
    return Defaults(values, {key: given[key] for key in defaults if key in given})


def pinned_argv(
    argv: Sequence[str], script: Path, env: Mapping[str, str] | None = None, template: Path = TEMPLATE_CONFIG
) -> tuple[list[str], list[str]]:
    """``argv`` (``run <script> [options] [-- args]``) with the template's defaults that nothing
    else sets and then the pinned options as flags after every other option, and the lines to log
    (the defaults' notice, then one per override); the size caps from the app's serving.toml
    ([limits]). SettingsError for a config file that is not valid TOML, a size that is not a whole
    number of MB, or a bad serving.toml (naming the file and the key)."""
    env = os.environ if env is None else env
    directory = app_directory(script, env)
    try:
        limits = load_limits(directory)
    except AppSettingsError as error:
        raise SettingsError(str(error)) from None
    pins = app_pins(limits, directory / SETTINGS_FILE)
    files = config_files(script)
    resolved = resolve(given_values(files, env, argv), pins)
    defaults = template_defaults(files, env, argv, template)
    args = list(argv)
    end = args.index("--") if "--" in args else len(args)
    flags = [*defaults.flags, *resolved.flags]
    return [*args[:end], *flags, *args[end:]], [defaults.notice(template), *resolved.overrides]


def guard_set_option() -> None:
    """Keep the pins while the app runs: Streamlit lets a script change the ``client`` options it
    marks scriptable (``st.set_option("client.showErrorDetails", "full")``, ``client.toolbarMode``),
    which would undo two pins for every session from then on. A call that would change a pinned
    option is ignored, with one log line per option and value; every other call goes through."""
    import streamlit
    from streamlit import config

    pins = {pin.key: pin for pin in PINS}
    set_option = streamlit.set_option
    said: set[tuple[str, str]] = set()

    def guarded(key: str, value: object) -> None:
        pin = pins.get(key)
        if pin is None or pin.capped:  # capped options are not scriptable: Streamlit refuses them
            set_option(key, value)
            return
        if config.get_option(key) == value:
            return
        if (key, repr(value)) not in said:
            said.add((key, repr(value)))
            print(
                f"serve: the app calls st.set_option({key!r}, {value!r}); ignored, pinned to "
                f"{_shown(pin.value)} ({PINNED}: streamlit_serving/pinned.py)",
                file=sys.stderr,
            )

    streamlit.set_option = guarded
