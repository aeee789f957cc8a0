"""Static checks of the container deployment files: docker-compose.yml, Dockerfile, .dockerignore.

No Docker engine is needed (none runs where these tests run), so the files are checked by
construction: each ``check_*`` function below reads the parsed compose file and returns a list of
problems (empty when the rule holds). The tests assert the real file has none, and feed deliberately
broken copies to the same functions to show every rule can fail.

Sources of the rules:
- Compose Specification JSON schema, compose-spec/compose-spec ``schema/compose-spec.json``
  (read at commit 00655e2222608fa6eaecdf12ac5195889ca2244a): top-level keys, service keys,
  healthcheck keys, ``depends_on`` conditions.
- Compose Specification, "Interpolation" chapter (12-interpolation.md, and
  https://docs.docker.com/reference/compose-file/interpolation/): ``${VAR}``, ``${VAR:-d}``,
  ``${VAR-d}``, ``${VAR:?e}``, ``${VAR?e}``, ``${VAR:+r}``, ``${VAR+r}``, nesting, ``$$``.
- Compose Specification, "Extension" chapter, "Specifying durations": ``{value}{unit}`` with
  units us, ms, s, m, h, combinable (``10s``, ``1m30s``, ``1h5m30s20ms``).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bench.widgets import NGINX_CONF, local_reviews_conf

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# The services that run the reviews code, and the settings they cannot run without.
APP_SERVICES = ("api", "scheduler")
REQUIRED_APP_ENV = ("MONGODB_URL", "REVIEWS_ADMIN_TOKEN", "REVIEWS_SECRET_KEY")
SECRET_ENV = ("REVIEWS_ADMIN_TOKEN", "REVIEWS_SECRET_KEY")
API_PORT = 8000

# ---------------------------------------------------------------------------------------------
# Vocabulary of the Compose Specification.
# Source: compose-spec/compose-spec, schema/compose-spec.json at commit
# 00655e2222608fa6eaecdf12ac5195889ca2244a: the root "properties" (plus "patternProperties":
# {"^x-": {}} for extensions) and "definitions" -> "service" -> "properties". `version` is in the
# schema only as "deprecated: declared for backward compatibility, ignored. Please remove it."
# ---------------------------------------------------------------------------------------------
TOP_LEVEL_KEYS = frozenset({"services", "networks", "volumes", "configs", "secrets", "name", "include", "models"})
OBSOLETE_TOP_LEVEL_KEYS = frozenset({"version"})

SERVICE_KEYS = frozenset(
    {
        "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup",
        "cgroup_parent", "command", "configs", "container_name", "cpu_count", "cpu_percent",
        "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset",
        "credential_spec", "depends_on", "deploy", "develop", "device_cgroup_rules", "devices", "dns",
        "dns_opt", "dns_search", "domainname", "entrypoint", "env_file", "environment", "expose",
        "extends", "external_links", "extra_hosts", "gpus", "group_add", "healthcheck", "hostname",
        "image", "init", "ipc", "isolation", "label_file", "labels", "links", "logging", "mac_address",
        "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit", "models", "network_mode",
        "networks", "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "ports",
        "post_start", "pre_stop", "privileged", "profiles", "provider", "pull_policy",
        "pull_refresh_after", "read_only", "restart", "runtime", "scale", "secrets", "security_opt",
        "shm_size", "stdin_open", "stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs",
        "tty", "ulimits", "use_api_socket", "user", "userns_mode", "uts", "volumes", "volumes_from",
        "working_dir",
    }
)  # fmt: skip

# definitions -> healthcheck -> properties
HEALTHCHECK_KEYS = frozenset({"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"})
HEALTHCHECK_DURATION_KEYS = ("interval", "timeout", "start_period", "start_interval")
HEALTHCHECK_TEST_KINDS = frozenset({"CMD", "CMD-SHELL", "NONE"})

# definitions -> service -> properties -> depends_on (long syntax)
DEPENDS_ON_CONDITIONS = frozenset({"service_started", "service_healthy", "service_completed_successfully"})
DEPENDS_ON_KEYS = frozenset({"condition", "restart", "required"})

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9._-]+$")  # service/volume/network names in the schema
DURATION_PATTERN = re.compile(r"^(?:\d+(?:\.\d+)?(?:us|ms|s|m|h))+$")
RESTART_POLICIES = re.compile(r"^(?:no|always|unless-stopped|on-failure(?::\d+)?)$")
# Short port syntax [IP:]HOST:CONTAINER[/PROTOCOL]; HOST and CONTAINER may be ranges (8000-8010).
PORT_PATTERN = re.compile(
    r"^(?:(?P<ip>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:]+\]):)?"
    r"(?P<host>\d+(?:-\d+)?):(?P<container>\d+(?:-\d+)?)(?:/(?P<protocol>tcp|udp|sctp))?$"
)


def _is_extension(key: object) -> bool:
    return isinstance(key, str) and key.startswith("x-")


# ---------------------------------------------------------------------------------------------
# Loading: PyYAML silently keeps the last of two equal keys, Compose refuses the file. Refuse too.
# ---------------------------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=True))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_without_duplicates)


def load_compose(text: str) -> dict[str, Any]:
    document = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    assert isinstance(document, dict), "a compose file is a YAML mapping"
    return document


def _services(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    services = doc.get("services")
    return services if isinstance(services, dict) else {}


# ---------------------------------------------------------------------------------------------
# Interpolation (Compose Specification, "Interpolation"): a small parser and evaluator.
# ---------------------------------------------------------------------------------------------
class InterpolationError(ValueError):
    """A `$` expression Compose would reject."""


class RequiredVariableError(Exception):
    """`${VAR:?msg}` / `${VAR?msg}` with VAR missing: Compose refuses to start the project."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


@dataclass(frozen=True)
class Variable:
    name: str
    operator: str | None  # None for ${VAR} and $VAR
    word: tuple[str | Variable, ...] = ()


_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")  # two-character operators first


def parse_interpolation(text: str) -> tuple[str | Variable, ...]:
    """Split `text` into literal strings and variables; InterpolationError when Compose would fail."""
    nodes, _ = _parse(text, 0, nested=False)
    return nodes


def _parse(text: str, pos: int, *, nested: bool) -> tuple[tuple[str | Variable, ...], int]:
    nodes: list[str | Variable] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            nodes.append("".join(literal))
            literal.clear()

    while pos < len(text):
        char = text[pos]
        if nested and char == "}":
            flush()
            return tuple(nodes), pos + 1
        if char != "$":
            literal.append(char)
            pos += 1
            continue
        following = text[pos + 1 : pos + 2]
        if following == "$":  # `$$` is a literal dollar sign
            literal.append("$")
            pos += 2
        elif following == "{":
            flush()
            variable, pos = _parse_braced(text, pos + 2)
            nodes.append(variable)
        elif match := _NAME.match(text, pos + 1):
            flush()
            nodes.append(Variable(match.group(), None))
            pos = match.end()
        else:  # `$` not followed by a name is kept as it is
            literal.append("$")
            pos += 1
    if nested:
        raise InterpolationError(f"{text!r}: a '${{' is never closed by '}}'")
    flush()
    return tuple(nodes), pos


def _parse_braced(text: str, pos: int) -> tuple[Variable, int]:
    match = _NAME.match(text, pos)
    if match is None:
        raise InterpolationError(f"{text!r}: '${{' at offset {pos - 2} is not followed by a variable name")
    name, pos = match.group(), match.end()
    if text.startswith("}", pos):
        return Variable(name, None), pos + 1
    for operator in _OPERATORS:
        if text.startswith(operator, pos):
            word, pos = _parse(text, pos + len(operator), nested=True)
            return Variable(name, operator, word), pos
    if pos >= len(text):
        raise InterpolationError(f"{text!r}: a '${{' is never closed by '}}'")
    raise InterpolationError(
        f"{text!r}: unsupported syntax {text[pos]!r} after '${{{name}' "
        "(only :- - :? ? :+ + are part of the Compose Specification)"
    )


def variables_in(nodes: tuple[str | Variable, ...]) -> set[str]:
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, Variable):
            names.add(node.name)
            names |= variables_in(node.word)
    return names


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """What Compose makes of `text` in environment `env`; RequiredVariableError for `:?`/`?`."""
    return _evaluate(parse_interpolation(text), env)


def _evaluate(nodes: tuple[str | Variable, ...], env: Mapping[str, str]) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
            continue
        value = env.get(node.name)
        is_set, non_empty = value is not None, bool(value)
        operator = node.operator
        if operator is None:
            out.append(value or "")
        elif operator in (":-", "-"):
            keep = non_empty if operator == ":-" else is_set
            out.append((value or "") if keep else _evaluate(node.word, env))
        elif operator in (":?", "?"):
            if not (non_empty if operator == ":?" else is_set):
                raise RequiredVariableError(node.name, _evaluate(node.word, env))
            out.append(value or "")
        else:  # ":+" and "+": the replacement when set
            use_word = non_empty if operator == ":+" else is_set
            out.append(_evaluate(node.word, env) if use_word else "")
    return "".join(out)


def _walk_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string value (Compose interpolates values, not keys) with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_strings(item, f"{path}[{index}]")


def service_environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    """`environment` as a dict, from either syntax; None = passed through from the host if set."""
    raw = service.get("environment") or {}
    if isinstance(raw, dict):
        return {str(k): (None if v is None else str(v)) for k, v in raw.items()}
    env: dict[str, str | None] = {}
    for entry in raw:
        name, sep, value = str(entry).partition("=")
        env[name] = value if sep else None
    return env


# ---------------------------------------------------------------------------------------------
# Checks. Each returns a list of human-readable problems; [] means the rule holds.
# ---------------------------------------------------------------------------------------------
def check_top_level(doc: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in doc:
        if key in OBSOLETE_TOP_LEVEL_KEYS:
            problems.append(f"top-level {key!r} is obsolete in the Compose Specification: remove it")
        elif key not in TOP_LEVEL_KEYS and not _is_extension(key):
            problems.append(f"unknown top-level key {key!r} (allowed: {sorted(TOP_LEVEL_KEYS)} or x-*)")
    if not _services(doc):
        problems.append("'services' must be a non-empty mapping")
    for section in ("services", "volumes", "networks"):
        for name in doc.get(section) or {}:
            if not NAME_PATTERN.match(str(name)):
                problems.append(f"{section}.{name}: name does not match {NAME_PATTERN.pattern}")
    return problems


def check_service_keys(doc: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, service in _services(doc).items():
        if not isinstance(service, dict):
            problems.append(f"services.{name}: a service must be a mapping")
            continue
        for key in service:
            if key not in SERVICE_KEYS and not _is_extension(key):
                problems.append(f"services.{name}: unknown service key {key!r}")
    return problems


def check_image_or_build(doc: Mapping[str, Any]) -> list[str]:
    return [
        f"services.{name}: needs 'image' or 'build'"
        for name, service in _services(doc).items()
        if not (service.get("image") or service.get("build"))
    ]


def check_restart_policies(doc: Mapping[str, Any]) -> list[str]:
    return [
        f"services.{name}.restart: {service['restart']!r} is not no|always|on-failure[:N]|unless-stopped"
        for name, service in _services(doc).items()
        if "restart" in service and not RESTART_POLICIES.match(str(service["restart"]))
    ]


def _healthcheck_active(service: Mapping[str, Any]) -> bool:
    check = service.get("healthcheck")
    if not isinstance(check, dict) or check.get("disable") is True:
        return False
    test = check.get("test")
    if isinstance(test, list):
        return bool(test) and test[0] != "NONE"
    return bool(test)


def check_depends_on(doc: Mapping[str, Any]) -> list[str]:
    services = _services(doc)
    problems = []
    for name, service in services.items():
        depends_on = service.get("depends_on")
        if depends_on is None:
            continue
        if isinstance(depends_on, list):
            targets = {str(target): {"condition": "service_started"} for target in depends_on}
        elif isinstance(depends_on, dict):
            targets = depends_on
        else:
            problems.append(f"services.{name}.depends_on: must be a list or a mapping")
            continue
        for target, spec in targets.items():
            where = f"services.{name}.depends_on.{target}"
            if target not in services:
                problems.append(f"{where}: no service named {target!r}")
            if target == name:
                problems.append(f"{where}: a service cannot depend on itself")
            if not isinstance(spec, dict):
                problems.append(f"{where}: long syntax needs a mapping with 'condition'")
                continue
            problems += [f"{where}: unknown key {key!r}" for key in spec if key not in DEPENDS_ON_KEYS]
            condition = spec.get("condition")
            if condition not in DEPENDS_ON_CONDITIONS:
                problems.append(f"{where}: condition {condition!r} is not one of {sorted(DEPENDS_ON_CONDITIONS)}")
            if condition == "service_healthy" and target in services and not _healthcheck_active(services[target]):
                problems.append(f"{where}: waits for service_healthy but {target!r} has no active healthcheck")
    return problems


def check_healthchecks(doc: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, service in _services(doc).items():
        check = service.get("healthcheck")
        if check is None:
            continue
        where = f"services.{name}.healthcheck"
        if not isinstance(check, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        problems += [
            f"{where}: unknown key {key!r}" for key in check if key not in HEALTHCHECK_KEYS and not _is_extension(key)
        ]
        if check.get("disable") is True:
            continue
        test = check.get("test")
        if isinstance(test, str):
            if not test.strip():
                problems.append(f"{where}.test: empty command")
        elif isinstance(test, list) and test and all(isinstance(part, str) for part in test):
            if test[0] not in HEALTHCHECK_TEST_KINDS:
                problems.append(f"{where}.test: a list must start with CMD, CMD-SHELL or NONE, not {test[0]!r}")
            elif test[0] != "NONE" and len(test) < 2:
                problems.append(f"{where}.test: {test[0]} without a command")
        else:
            problems.append(f"{where}.test: must be a string or a non-empty list of strings")
        for key in HEALTHCHECK_DURATION_KEYS:
            if key in check and not DURATION_PATTERN.match(str(check[key])):
                problems.append(f"{where}.{key}: {check[key]!r} is not a Compose duration like 10s or 1m30s")
        retries = check.get("retries")
        if retries is not None and (isinstance(retries, bool) or not str(retries).isdigit()):
            problems.append(f"{where}.retries: {retries!r} is not a non-negative integer")
    return problems


def _volume_mounts(service: Mapping[str, Any]) -> Iterator[tuple[str | None, str | None, bool]]:
    """(source, target, is_named_volume) for each entry of a service's `volumes`."""
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            source, target = entry.get("source"), entry.get("target")
            yield source, target, entry.get("type") == "volume" and bool(source)
            continue
        parts = str(entry).split(":")
        if len(parts) == 1:  # anonymous volume: just a container path
            yield None, parts[0], False
            continue
        source, target = parts[0], parts[1]
        is_path = source.startswith(("/", ".", "~", "$")) or "/" in source or "\\" in source
        yield source, target, not is_path


def check_named_volumes(doc: Mapping[str, Any]) -> list[str]:
    declared = set(doc.get("volumes") or {})
    problems = []
    for name, service in _services(doc).items():
        for source, _target, is_named in _volume_mounts(service):
            if is_named and source not in declared:
                problems.append(
                    f"services.{name}.volumes: named volume {source!r} is not declared in top-level volumes"
                )
    return problems


def check_bind_mounts(doc: Mapping[str, Any], root: Path = ROOT) -> list[str]:
    """A relative bind-mount source is a path in the repository: Docker would mount an empty directory."""
    problems = []
    for name, service in _services(doc).items():
        for source, _target, is_named in _volume_mounts(service):
            if source and not is_named and source.startswith(".") and not (root / source).exists():
                problems.append(
                    f"services.{name}.volumes: bind-mount source {source!r} does not exist in the repository"
                )
    return problems


def check_ports(doc: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, service in _services(doc).items():
        for entry in service.get("ports") or []:
            where = f"services.{name}.ports: {entry!r}"
            if not isinstance(entry, str):
                problems.append(
                    f'{where} must be a quoted "HOST:CONTAINER" string '
                    "(unquoted, YAML 1.1 may even read 22:22 as the base-60 number 1342)"
                )
                continue
            match = PORT_PATTERN.match(entry)
            if match is None:
                problems.append(f"{where} is not [IP:]HOST:CONTAINER[/PROTOCOL]")
                continue
            numbers = [int(n) for part in ("host", "container") for n in match.group(part).split("-")]
            if not all(1 <= n <= 65535 for n in numbers):
                problems.append(f"{where} has a port outside 1-65535")
    return problems


def check_interpolation(doc: Mapping[str, Any]) -> list[str]:
    problems = []
    for path, text in _walk_strings(dict(doc), ""):
        try:
            parse_interpolation(text)
        except InterpolationError as error:
            problems.append(f"{path}: {error}")
    return problems


def _worst_cases(text: str) -> list[dict[str, str]]:
    """Host environments in which a value is most likely to come out empty: all unset, all empty."""
    names = variables_in(parse_interpolation(text))
    return [{}, dict.fromkeys(names, "")]


def check_required_env(
    doc: Mapping[str, Any],
    services: tuple[str, ...] = APP_SERVICES,
    required: tuple[str, ...] = REQUIRED_APP_ENV,
) -> list[str]:
    """Each required variable is set for each app service, and can never come out empty.

    A value is acceptable when, with its variables unset or empty on the host, it either still
    yields a non-empty string or makes Compose refuse to start (`${VAR:?msg}`).
    """
    all_services = _services(doc)
    problems = []
    for service_name in services:
        if service_name not in all_services:
            problems.append(f"services.{service_name}: missing")
            continue
        env = service_environment(all_services[service_name])
        for variable in required:
            where = f"services.{service_name}.environment.{variable}"
            if variable not in env:
                problems.append(f"{where}: not set")
                continue
            value = env[variable]
            if value is None:
                problems.append(f"{where}: only passed through from the host, so it can be unset")
                continue
            try:
                cases = _worst_cases(value)
            except InterpolationError as error:
                problems.append(f"{where}: {error}")
                continue
            for host_env in cases:
                try:
                    result = interpolate(value, host_env)
                except RequiredVariableError:
                    continue  # Compose stops with the message: never runs with it empty
                if not result:
                    problems.append(f"{where}: {value!r} is empty when the host has {host_env or 'nothing'} set")
    return problems


def check_mongodb_url(doc: Mapping[str, Any], services: tuple[str, ...] = APP_SERVICES) -> list[str]:
    """The app services use the compose project's MongoDB and wait until it is healthy."""
    all_services = _services(doc)
    problems = []
    for service_name in services:
        service = all_services.get(service_name, {})
        value = service_environment(service).get("MONGODB_URL")
        where = f"services.{service_name}.environment.MONGODB_URL"
        if value is None:
            problems.append(f"{where}: not set (the service would fall back to its in-memory store)")
            continue
        try:
            url = interpolate(value, {})
        except (InterpolationError, RequiredVariableError) as error:
            problems.append(f"{where}: {error}")
            continue
        parts = urlsplit(url)
        if parts.scheme != "mongodb" or not parts.hostname:
            problems.append(f"{where}: {url!r} is not a mongodb://HOST/... URL")
            continue
        if parts.hostname not in all_services:
            problems.append(f"{where}: host {parts.hostname!r} is not a service of this compose file")
            continue
        depends_on = service.get("depends_on") or {}
        condition = depends_on.get(parts.hostname, {}).get("condition") if isinstance(depends_on, dict) else None
        if condition != "service_healthy":
            problems.append(f"services.{service_name}.depends_on.{parts.hostname}: must be condition: service_healthy")
    return problems


def check_mongo_persistence(doc: Mapping[str, Any], service_name: str = "mongo") -> list[str]:
    """MongoDB's /data/db is a declared named volume, so the data survives `docker compose down`."""
    service = _services(doc).get(service_name)
    if service is None:
        return [f"services.{service_name}: missing"]
    declared = set(doc.get("volumes") or {})
    for source, target, is_named in _volume_mounts(service):
        if target == "/data/db":
            if is_named and source in declared:
                return []
            origin = f"from {source!r}" if source else "as an anonymous volume"
            return [f"services.{service_name}: /data/db is mounted {origin}, not a declared named volume"]
    return [f"services.{service_name}: /data/db has no named volume (data would be lost with the container)"]


SPEC_CHECKS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "top_level": check_top_level,
    "service_keys": check_service_keys,
    "image_or_build": check_image_or_build,
    "restart_policies": check_restart_policies,
    "depends_on": check_depends_on,
    "healthchecks": check_healthchecks,
    "named_volumes": check_named_volumes,
    "bind_mounts": check_bind_mounts,
    "ports": check_ports,
    "interpolation": check_interpolation,
    "required_env": check_required_env,
    "mongodb_url": check_mongodb_url,
    "mongo_persistence": check_mongo_persistence,
}


# ---------------------------------------------------------------------------------------------
# Dockerfile: instructions with continuation lines joined and comments dropped.
# ---------------------------------------------------------------------------------------------
def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue  # Docker drops comment lines, also inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def _exec_form(arguments: str) -> list[str] | None:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def dockerfile_healthcheck(text: str) -> tuple[dict[str, str], list[str] | None]:
    """(options, exec-form command) of the last HEALTHCHECK; command None when absent or shell form."""
    arguments = [args for keyword, args in dockerfile_instructions(text) if keyword == "HEALTHCHECK"]
    if not arguments:
        return {}, None
    match = re.match(r"^((?:--[a-z-]+=\S+\s+)*)CMD\s+(.*)$", arguments[-1])
    if match is None:
        return {}, None
    options = dict(re.findall(r"--([a-z-]+)=(\S+)", match.group(1)))
    return options, _exec_form(match.group(2))


def check_dockerfile(text: str) -> list[str]:
    instructions = dockerfile_instructions(text)
    by_keyword: dict[str, list[str]] = {}
    for keyword, arguments in instructions:
        by_keyword.setdefault(keyword, []).append(arguments)
    problems = []

    if by_keyword.get("FROM", [""])[0].split()[0:1] != ["python:3.11-slim"]:
        problems.append(f"FROM must be python:3.11-slim, not {by_keyword.get('FROM')}")
    users = by_keyword.get("USER", [])
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append("the final USER must be a non-root user")
    if not any(re.search(r"\bpip install --no-cache-dir \.(\s|$)", run) for run in by_keyword.get("RUN", [])):
        problems.append("no RUN `pip install --no-cache-dir .`")
    exposed = {port.split("/")[0] for ports in by_keyword.get("EXPOSE", []) for port in ports.split()}
    if str(API_PORT) not in exposed:
        problems.append(f"EXPOSE {API_PORT} missing")

    cmd = _exec_form(by_keyword.get("CMD", [""])[-1])
    if cmd is None:
        problems.append("CMD must be in exec form (a JSON array), so signals reach the server")
    else:
        if cmd[:2] != ["reviews", "serve"]:
            problems.append(f"CMD must run `reviews serve`, not {cmd}")
        if _option(cmd, "--host") != "0.0.0.0":
            problems.append(f"CMD must bind --host 0.0.0.0 (reachable from outside the container): {cmd}")
        if _option(cmd, "--port") != str(API_PORT):
            problems.append(f"CMD must serve on --port {API_PORT}: {cmd}")

    options, health = dockerfile_healthcheck(text)
    if health is None:
        problems.append("HEALTHCHECK CMD in exec form missing")
    else:
        code = _python_probe(health)
        if code is None:
            problems.append(f"HEALTHCHECK must run `python -c ...` (no curl in slim images): {health}")
        elif "urllib" not in code or f"127.0.0.1:{API_PORT}/health" not in code:
            problems.append(f"HEALTHCHECK must request http://127.0.0.1:{API_PORT}/health with urllib")
    for key, value in options.items():
        if key in {"interval", "timeout", "start-period", "start-interval"} and not DURATION_PATTERN.match(value):
            problems.append(f"HEALTHCHECK --{key}={value} is not a duration")
    return problems


def _option(argv: list[str], flag: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == flag and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(flag + "="):
            return arg.partition("=")[2]
    return None


def _python_probe(argv: list[str]) -> str | None:
    """The code of a `[CMD,] python -c CODE` health command, else None."""
    if argv and argv[0] == "CMD":
        argv = argv[1:]
    if len(argv) == 3 and argv[0] in {"python", "python3"} and argv[1] == "-c":
        return argv[2]
    return None


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture
def compose(compose_text: str) -> dict[str, Any]:
    """A fresh parse for each test, so tests may break it freely."""
    return load_compose(compose_text)


@pytest.fixture(scope="module")
def dockerfile_text() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The real files follow the rules
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("check_name", list(SPEC_CHECKS))
def test_compose_file_passes(check_name: str, compose: dict[str, Any]) -> None:
    problems = SPEC_CHECKS[check_name](compose)
    assert problems == [], f"docker-compose.yml breaks rule {check_name!r}:\n" + "\n".join(problems)


def test_compose_has_no_obsolete_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose Specification has no top-level `version:`"


def test_compose_services_and_commands(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert set(services) >= {"mongo", "api", "scheduler"}, f"services present: {sorted(services)}"
    assert services["mongo"]["image"] == "mongo:7"
    api_command = services["api"]["command"]
    api_argv = api_command.split() if isinstance(api_command, str) else api_command
    assert api_argv[:2] == ["reviews", "serve"], f"api command: {api_argv}"
    assert _option(api_argv, "--host") == "0.0.0.0", f"api must listen on all interfaces: {api_argv}"
    assert _option(api_argv, "--port") == str(API_PORT), f"api port: {api_argv}"
    assert services["api"]["ports"] == [f"127.0.0.1:{API_PORT}:{API_PORT}"], "api must publish 8000 on loopback only"
    scheduler_command = services["scheduler"]["command"]
    scheduler_argv = scheduler_command.split() if isinstance(scheduler_command, str) else scheduler_command
    assert scheduler_argv == ["reviews", "scheduler"], f"scheduler command: {scheduler_argv}"
    assert services["scheduler"].get("image") == services["api"].get("image"), "scheduler uses the api's image"
    assert services["scheduler"].get("build") == services["api"].get("build") == "."
    for name in ("mongo", *APP_SERVICES):
        assert services[name].get("restart") == "unless-stopped", f"{name} must restart unless-stopped"


def test_app_services_share_one_environment(compose: dict[str, Any], compose_text: str) -> None:
    shared = compose.get("x-reviews-env")
    assert isinstance(shared, dict), "extension field x-reviews-env holds the shared settings"
    assert re.search(r"^x-reviews-env:\s*&reviews-env\s*$", compose_text, re.MULTILINE), "x-reviews-env anchors"
    for name in APP_SERVICES:
        assert compose["services"][name]["environment"] == shared, f"{name} must use *reviews-env"
    assert compose_text.count("*reviews-env") >= len(APP_SERVICES), "both app services alias the anchor"
    assert shared.get("REVIEWS_ENV") == "production"


def test_secrets_must_be_provided(compose: dict[str, Any]) -> None:
    """The secrets use `${VAR:?message}`: Compose refuses to start while they are unset or empty."""
    for name in APP_SERVICES:
        env = service_environment(compose["services"][name])
        for secret in SECRET_ENV:
            value = env[secret]
            assert value is not None and value.startswith(f"${{{secret}:?"), f"{name}.{secret}: {value!r}"
            with pytest.raises(RequiredVariableError):
                interpolate(value, {})
            with pytest.raises(RequiredVariableError):
                interpolate(value, {secret: ""})
            assert interpolate(value, {secret: "s" * 32}) == "s" * 32


def test_scheduler_does_not_inherit_the_http_healthcheck(compose: dict[str, Any]) -> None:
    """The image's HEALTHCHECK probes /health, which only the API serves."""
    check = compose["services"]["scheduler"].get("healthcheck", {})
    test = check.get("test")
    assert (
        check.get("disable") is True
        or (isinstance(test, list) and test[:1] == ["NONE"])
        or (test is not None and "/health" not in str(test))
    ), f"scheduler healthcheck would report it unhealthy: {check}"


def test_mongo_healthcheck_pings(compose: dict[str, Any]) -> None:
    check = compose["services"]["mongo"]["healthcheck"]
    assert check["test"] == ["CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"]
    assert {"interval", "timeout", "retries", "start_period"} <= set(check), f"mongo healthcheck: {check}"


def test_api_healthcheck_requests_health(compose: dict[str, Any]) -> None:
    code = _python_probe(compose["services"]["api"]["healthcheck"]["test"])
    assert code is not None, "api healthcheck runs `python -c` (no curl in python:3.11-slim)"
    assert f"127.0.0.1:{API_PORT}/health" in code and "urllib" in code


def test_nginx_cache_fronts_the_api(compose: dict[str, Any], compose_text: str) -> None:
    nginx = _services(compose).get("nginx")
    assert nginx is not None, "an nginx caching proxy runs in front of api"
    assert "TODO(nginx cache)" not in compose_text, "the TODO is done: remove the comment"
    assert nginx.get("image") == "nginx:1.27-alpine"
    assert "8080:80" in (nginx.get("ports") or []), "nginx publishes 8080:80"
    mounts = list(_volume_mounts(nginx))
    assert ("./deploy/nginx/reviews.conf", "/etc/nginx/conf.d/default.conf", False) in mounts
    assert "./deploy/nginx/reviews.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"], "mounted read-only"
    assert any(target == "/var/cache/nginx" and is_named for _, target, is_named in mounts) or any(
        str(entry).startswith("/var/cache/nginx") for entry in nginx.get("tmpfs") or []
    ), "the cache directory is a named volume or a tmpfs"
    assert (nginx.get("depends_on") or {}).get("api", {}).get("condition") == "service_healthy"
    assert _healthcheck_active(nginx), "nginx has a healthcheck"
    assert re.search(r"^\s*server api:8000;", NGINX_CONF.read_text(encoding="utf-8"), re.MULTILINE), (
        "the upstream of reviews.conf is the compose service api:8000"
    )


def test_the_api_sees_the_shoppers_address_behind_nginx(compose: dict[str, Any]) -> None:
    """Per-client rate limits count shoppers: uvicorn trusts the X-Forwarded-For that nginx sets (not appends)."""
    api = _services(compose)["api"]
    assert service_environment(api).get("FORWARDED_ALLOW_IPS") == "*", "api trusts nginx's X-Forwarded-For"
    conf = NGINX_CONF.read_text(encoding="utf-8")
    assert re.search(r"proxy_set_header X-Forwarded-For \$remote_addr;", conf), "nginx sets the client's address"
    assert "$proxy_add_x_forwarded_for" not in conf, "appending would let a client pick its own address"


def test_nginx_accepts_the_cache_config(tmp_path: Path, nginx_binary: str) -> None:
    """The real nginx binary parses reviews.conf (`nginx -t`), with the upstream set to 127.0.0.1:1."""
    (tmp_path / "reviews.conf").write_text(
        local_reviews_conf(NGINX_CONF.read_text(encoding="utf-8"), "127.0.0.1:1", tmp_path / "cache", "127.0.0.1:8080"),
        encoding="utf-8",
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; include {tmp_path / 'reviews.conf'}; }}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [nginx_binary, "-t", "-p", f"{tmp_path}/", "-e", str(tmp_path / "error.log"), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "test is successful" in output, f"nginx -t refused reviews.conf:\n{output}"
    assert "[warn]" not in output and "[emerg]" not in output, f"nginx -t warned:\n{output}"


def test_dockerfile_passes(dockerfile_text: str) -> None:
    problems = check_dockerfile(dockerfile_text)
    assert problems == [], "Dockerfile problems:\n" + "\n".join(problems)


def test_dockerfile_cmd_and_healthcheck(dockerfile_text: str) -> None:
    cmd = _exec_form([args for kw, args in dockerfile_instructions(dockerfile_text) if kw == "CMD"][-1])
    assert cmd == ["reviews", "serve", "--host", "0.0.0.0", "--port", str(API_PORT)]
    options, health = dockerfile_healthcheck(dockerfile_text)
    assert health is not None and "/health" in (_python_probe(health) or "")
    assert set(options) >= {"interval", "timeout", "retries"}, f"HEALTHCHECK options: {options}"


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    missing = {
        ".venv",
        ".git",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        "artifacts",
        "bench",
    } - patterns
    assert not missing, f".dockerignore lacks {sorted(missing)}"
    assert not {"pyproject.toml", "reviews_service", "README.md"} & patterns, "the build needs these files"


# ---------------------------------------------------------------------------------------------
# The health probes behave: run them against a local stand-in for the API.
# ---------------------------------------------------------------------------------------------
class _HealthStub(BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        body = json.dumps({"status": "ok" if self.status == 200 else "down"}).encode()
        self.send_response(self.status if self.path == "/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _run_probe(code: str, port: int) -> int:
    """Exit code of a probe aimed at `port`, with a dead HTTP proxy configured: it must not use it."""
    retargeted = code.replace(f"127.0.0.1:{API_PORT}", f"127.0.0.1:{port}")
    assert retargeted != code, "the probe must name 127.0.0.1:8000"
    dead_proxy = "http://127.0.0.1:9"
    env = {**os.environ, "http_proxy": dead_proxy, "HTTP_PROXY": dead_proxy, "no_proxy": "", "NO_PROXY": ""}
    return subprocess.run([sys.executable, "-c", retargeted], capture_output=True, timeout=30, env=env).returncode


def _probe_codes(dockerfile_text: str) -> dict[str, str]:
    compose = load_compose(COMPOSE_FILE.read_text(encoding="utf-8"))
    _, health = dockerfile_healthcheck(dockerfile_text)
    codes = {
        "Dockerfile HEALTHCHECK": _python_probe(health or []),
        "compose api healthcheck": _python_probe(compose["services"]["api"]["healthcheck"]["test"]),
    }
    assert all(codes.values()), f"probes: {codes}"
    return {name: code for name, code in codes.items() if code}


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False), (500, False)])
def test_health_probes_follow_the_health_endpoint(dockerfile_text: str, status: int, healthy: bool) -> None:
    handler: type[_HealthStub] = type("Stub", (_HealthStub,), {"status": status, "paths": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for name, code in _probe_codes(dockerfile_text).items():
            returncode = _run_probe(code, server.server_address[1])
            assert (returncode == 0) is healthy, f"{name} exited {returncode} for HTTP {status}"
    finally:
        server.shutdown()
        server.server_close()
    assert handler.paths and set(handler.paths) == {"/health"}, f"probes requested {handler.paths}"


def test_health_probes_fail_when_nothing_listens(dockerfile_text: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HealthStub)
    port = server.server_address[1]
    server.server_close()  # the port is now closed: connection refused
    for name, code in _probe_codes(dockerfile_text).items():
        assert _run_probe(code, port) != 0, f"{name} must fail when the API is down"


# ---------------------------------------------------------------------------------------------
# The checks can fail: broken copies of the real file are reported.
# ---------------------------------------------------------------------------------------------
def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target = doc
        for key in parents:
            target = target[key]
        target[last] = value

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target = doc
        for key in parents:
            target = target[key]
        del target[last]

    return mutate


def _replace_env(service: str, **changes: str | None) -> Callable[[dict[str, Any]], None]:
    """Give one service its own environment (the anchor makes api/scheduler share one dict)."""

    def mutate(doc: dict[str, Any]) -> None:
        env = dict(doc["services"][service]["environment"])
        for name, value in changes.items():
            if value == "<delete>":
                env.pop(name, None)
            else:
                env[name] = value
        doc["services"][service]["environment"] = env

    return mutate


BROKEN_COMPOSE = [
    ("obsolete version key", _set("version", "3.8"), check_top_level, "'version' is obsolete"),
    ("typo in a top-level key", _set("volume", {}), check_top_level, "unknown top-level key 'volume'"),
    ("typo in a service key", _set("services/api/enviroment", {}), check_service_keys, "'enviroment'"),
    ("v2-only service key", _set("services/mongo/mem_limits", "1g"), check_service_keys, "'mem_limits'"),
    ("neither image nor build", _delete("services/mongo/image"), check_image_or_build, "mongo: needs"),
    ("bad restart policy", _set("services/api/restart", "unless_stopped"), check_restart_policies, "restart"),
    (
        "dependency on a missing service",
        _set("services/api/depends_on", {"mongodb": {"condition": "service_healthy"}}),
        check_depends_on,
        "no service named 'mongodb'",
    ),
    (
        "unknown dependency condition",
        _set("services/scheduler/depends_on", {"mongo": {"condition": "service_ready"}}),
        check_depends_on,
        "'service_ready'",
    ),
    (
        "service_healthy on a service without healthcheck",
        _delete("services/mongo/healthcheck"),
        check_depends_on,
        "has no active healthcheck",
    ),
    (
        "service_healthy on a disabled healthcheck",
        _set("services/mongo/healthcheck", {"disable": True}),
        check_depends_on,
        "has no active healthcheck",
    ),
    (
        "healthcheck test not starting with CMD",
        _set("services/mongo/healthcheck/test", ["mongosh", "--eval", "1"]),
        check_healthchecks,
        "must start with CMD",
    ),
    (
        "healthcheck duration in words",
        _set("services/mongo/healthcheck/interval", "10 seconds"),
        check_healthchecks,
        "not a Compose duration",
    ),
    ("healthcheck bare number", _set("services/api/healthcheck/timeout", 5), check_healthchecks, "timeout"),
    (
        "healthcheck key typo",
        _set("services/api/healthcheck/startperiod", "5s"),
        check_healthchecks,
        "startperiod",
    ),
    (
        "undeclared named volume",
        _delete("volumes/mongo-data"),
        check_named_volumes,
        "'mongo-data' is not declared",
    ),
    (
        "bind mount of a file missing from the repository",
        _set("services/nginx/volumes", ["./deploy/nginx/missing.conf:/etc/nginx/conf.d/default.conf:ro"]),
        check_bind_mounts,
        "'./deploy/nginx/missing.conf' does not exist",
    ),
    ("port as a number", _set("services/api/ports", [8000]), check_ports, "quoted"),
    ("port without host side", _set("services/api/ports", ["8000"]), check_ports, "HOST:CONTAINER"),
    ("port out of range", _set("services/api/ports", ["80000:8000"]), check_ports, "outside 1-65535"),
    (
        "interpolation with a space in the name",
        _replace_env("api", TRUSTPILOT_API_URL="${TRUSTPILOT API_URL}"),
        check_interpolation,
        "unsupported syntax",
    ),
    (
        "shell-only substitution",
        _replace_env("api", DIGEST_TIME="${DIGEST_TIME/8/9}"),
        check_interpolation,
        "unsupported syntax '/'",
    ),
    (
        "unclosed interpolation",
        _set("services/api/image", "reviews:${TAG"),
        check_interpolation,
        "never closed",
    ),
    (
        "empty interpolation",
        _set("services/mongo/image", "mongo:${}"),
        check_interpolation,
        "not followed by",
    ),
    (
        "scheduler without the secret key",
        _replace_env("scheduler", REVIEWS_SECRET_KEY="<delete>"),
        check_required_env,
        "scheduler.environment.REVIEWS_SECRET_KEY: not set",
    ),
    (
        "admin token with an empty default",
        _replace_env("api", REVIEWS_ADMIN_TOKEN="${REVIEWS_ADMIN_TOKEN:-}"),
        check_required_env,
        "api.environment.REVIEWS_ADMIN_TOKEN",
    ),
    (
        "admin token that may be set but empty",
        _replace_env("scheduler", REVIEWS_ADMIN_TOKEN="${REVIEWS_ADMIN_TOKEN?required}"),
        check_required_env,
        "is empty when the host has",
    ),
    (
        "MONGODB_URL only passed through",
        _replace_env("api", MONGODB_URL=None),
        check_required_env,
        "only passed through",
    ),
    (
        "scheduler on the in-memory store",
        _replace_env("scheduler", MONGODB_URL="<delete>"),
        check_mongodb_url,
        "in-memory store",
    ),
    (
        "MONGODB_URL pointing outside the project",
        _replace_env("api", MONGODB_URL="mongodb://localhost:27017/reviews"),
        check_mongodb_url,
        "'localhost' is not a service",
    ),
    (
        "api not waiting for mongo to be healthy",
        _set("services/api/depends_on", {"mongo": {"condition": "service_started"}}),
        check_mongodb_url,
        "must be condition: service_healthy",
    ),
    (
        "mongo data in an anonymous volume",
        _set("services/mongo/volumes", ["/data/db"]),
        check_mongo_persistence,
        "not a declared named volume",
    ),
    ("mongo without a volume", _delete("services/mongo/volumes"), check_mongo_persistence, "no named volume"),
]


@pytest.mark.parametrize(
    ("mutate", "check", "expected"),
    [pytest.param(m, c, e, id=name) for name, m, c, e in BROKEN_COMPOSE],
)
def test_broken_compose_is_reported(
    compose: dict[str, Any],
    mutate: Callable[[dict[str, Any]], None],
    check: Callable[[Mapping[str, Any]], list[str]],
    expected: str,
) -> None:
    assert check(compose) == [], "the real file passes before it is broken"
    broken = copy.deepcopy(compose)
    mutate(broken)
    problems = check(broken)
    assert any(expected in problem for problem in problems), f"expected {expected!r} in {problems}"


def test_duplicate_keys_are_refused(compose_text: str) -> None:
    broken = compose_text.replace("    restart: unless-stopped\n", "    restart: unless-stopped\n    restart: no\n", 1)
    assert broken != compose_text
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key 'restart'"):
        load_compose(broken)


BROKEN_DOCKERFILE = [
    ("loopback only", lambda t: t.replace('"--host", "0.0.0.0"', '"--host", "127.0.0.1"'), "--host 0.0.0.0"),
    ("runs as root", lambda t: t.replace("USER reviews", "USER root"), "non-root"),
    ("no USER at all", lambda t: t.replace("USER reviews\n", ""), "non-root"),
    ("shell-form CMD", lambda t: re.sub(r"^CMD \[.*\]$", "CMD reviews serve", t, flags=re.M), "exec form"),
    (
        "healthcheck with curl",
        lambda t: re.sub(r'CMD \["python".*\]', 'CMD ["curl", "-f", "http://localhost:8000/health"]', t),
        "python -c",
    ),
    ("healthcheck on the wrong path", lambda t: t.replace("8000/health'", "8000/'"), "/health"),
    (
        "pip cache kept",
        lambda t: t.replace("pip install --no-cache-dir .", "pip install ."),
        "--no-cache-dir",
    ),
    (
        "other base image",
        lambda t: t.replace("FROM python:3.11-slim", "FROM python:3.12"),
        "python:3.11-slim",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [pytest.param(m, e, id=name) for name, m, e in BROKEN_DOCKERFILE])
def test_broken_dockerfile_is_reported(dockerfile_text: str, mutate: Callable[[str], str], expected: str) -> None:
    broken = mutate(dockerfile_text)
    assert broken != dockerfile_text, "the mutation must change the Dockerfile"
    problems = check_dockerfile(broken)
    assert any(expected in problem for problem in problems), f"expected {expected!r} in {problems}"


# ---------------------------------------------------------------------------------------------
# The interpolation parser itself
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("plain", {}, "plain"),
        ("${A}", {"A": "1"}, "1"),
        ("$A/x", {"A": "1"}, "1/x"),
        ("${A}", {}, ""),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A-d}", {}, "d"),
        ("${A:+r}", {"A": "1"}, "r"),
        ("${A:+r}", {"A": ""}, ""),
        ("${A+r}", {"A": ""}, "r"),
        ("${A:-${B:-deep}}", {}, "deep"),
        ("$${A} and $$A cost $$5", {"A": "1"}, "${A} and $A cost $5"),
        ("a $ alone", {}, "a $ alone"),
        ("${DIGEST_TIME:-08:00}", {}, "08:00"),
    ],
)
def test_interpolation_evaluates_like_compose(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected


@pytest.mark.parametrize(("text", "env"), [("${A:?need A}", {}), ("${A:?need A}", {"A": ""}), ("${A?x}", {})])
def test_required_interpolation_refuses(text: str, env: dict[str, str]) -> None:
    with pytest.raises(RequiredVariableError):
        interpolate(text, env)


@pytest.mark.parametrize("text", ["${", "${A", "${A:-x", "${}", "${1A}", "${A/b/c}", "${A:=x}", "${A B}"])
def test_invalid_interpolation_is_rejected(text: str) -> None:
    with pytest.raises(InterpolationError):
        parse_interpolation(text)


def test_the_image_without_mongodb_keeps_its_embedded_store_in_a_volume_its_user_owns(dockerfile_text: str) -> None:
    """`docker run` with no MONGODB_URL writes the embedded store into /data: owned by the service's user, a volume."""
    instructions = dockerfile_instructions(dockerfile_text)
    env = " ".join(args for kw, args in instructions if kw == "ENV")
    assert re.search(r"(^|\s)REVIEWS_DATA_DIR=/data(\s|$)", env), env
    runs = " ".join(args for kw, args in instructions if kw == "RUN")
    assert "chown reviews:reviews /data" in runs
    volumes = [_exec_form(args) or args.split() for kw, args in instructions if kw == "VOLUME"]
    assert ["/data"] in volumes
    user_at = [i for i, (kw, _) in enumerate(instructions) if kw == "USER"][-1]
    chown_at = next(i for i, (kw, args) in enumerate(instructions) if kw == "RUN" and "/data" in args)
    assert chown_at < user_at  # made as root, before the image drops to the unprivileged user
