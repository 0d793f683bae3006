"""The deployment guide's files (issue 17, item 5): docs/deploy.md and docs/deploy/.

The guide shows files in code blocks whose first line is a comment naming the file
(``# docs/deploy/…`` or ``-- docs/deploy/…``); the tests hold each such block equal to the file.
Units are rendered for the test machine by replacing the server's paths (``/opt/kkik/venv``,
``/etc/kkik``, ``/var/lib/kkik``…) with the test's own, nothing else: ``systemd-analyze verify``
insists that ``ExecStart=``'s program exists. The helpers here serve test_deploy_postgres.py too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.core.config import load_config, secret_sources

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deploy.md"
DEPLOY = ROOT / "docs" / "deploy"
SYSTEMD = DEPLOY / "systemd"
UNITS = sorted(p.name for p in SYSTEMD.glob("*.service")) + sorted(
    p.name for p in SYSTEMD.glob("*.timer")
)
# The kkik of the environment running the tests (the venv's console script).
KKIK = Path(sys.executable).with_name("kkik")
SERVER_KKIK = "/opt/kkik/venv/bin/kkik"

_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_SHOWN = re.compile(r"^(?:#|--) (docs/deploy/[^\s:]+)")
_MENTIONED = re.compile(r"docs/deploy/[A-Za-z0-9_./-]*[A-Za-z0-9_]")
_UNIT_NAME = re.compile(r"\bkkik-[a-z-]+\.(?:service|timer)\b")


def shown_files() -> dict[str, str]:
    """Path -> the code block of the guide that shows it (first line names the file)."""
    shown: dict[str, str] = {}
    for block in _FENCE.findall(GUIDE.read_text(encoding="utf-8")):
        found = _SHOWN.match(block)
        if found:
            assert found[1] not in shown, f"{found[1]} is shown twice"
            shown[found[1]] = block
    return shown


def mentioned_paths() -> list[str]:
    """Every docs/deploy/… path the guide names (in prose, commands or blocks)."""
    return sorted(set(_MENTIONED.findall(GUIDE.read_text(encoding="utf-8"))))


def mentioned_units() -> list[str]:
    """Every kkik unit the guide names (kkik-run.service, kkik-backup.timer…)."""
    return sorted(set(_UNIT_NAME.findall(GUIDE.read_text(encoding="utf-8"))))


@dataclass
class Unit:
    """The settings of a unit file that the tests use (repeated keys in order)."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def all(self, key: str) -> list[str]:
        return self.values.get(key, [])

    def one(self, key: str) -> str:
        (value,) = self.all(key)
        return value

    def environment(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for line in self.all("Environment"):
            if line:
                name, _, value = line.partition("=")
                env[name] = value
        return env


def parse_unit(text: str) -> Unit:
    unit = Unit()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or line.startswith("["):
            continue
        key, _, value = line.partition("=")
        unit.values.setdefault(key.strip(), []).append(value.strip())
    return unit


def render(text: str, root: Path) -> str:
    """The unit (or config) with the server's paths moved under ``root`` and the test's kkik."""
    replacements = {
        SERVER_KKIK: str(KKIK),
        "/usr/local/sbin/kkik-backup": str(DEPLOY / "kkik-backup.sh"),
        "/etc/kkik/": f"{root}/etc/kkik/",
        "/var/lib/kkik": f"{root}/var/lib/kkik",
        "/var/cache/kkik": f"{root}/var/cache/kkik",
        "/var/backups/kkik": f"{root}/var/backups/kkik",
    }
    for server, local in replacements.items():
        text = text.replace(server, local)
    return text


def read_env_file(path: Path) -> dict[str, str]:
    """VARIABLE=value lines as systemd's EnvironmentFile= reads the simple ones."""
    values = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not VARIABLE=value: {raw!r}"
            values[name] = value
    return values


def clean_environ(secret_names: set[str]) -> dict[str, str]:
    """This process's environment without the harness's own variables and the secrets."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("KKIK_")
        and name not in secret_names
        and name.removesuffix("_FILE") not in secret_names
    }


# -- tests ---------------------------------------------------------------------------------------


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def _config_secret_names() -> set[str]:
    settings = load_config(DEPLOY / "config.toml")
    names = {env for _, env, _ in secret_sources(settings)}
    assert None not in names, "the server's configuration names files, not variables"
    return {n for n in names if n is not None}


def test_the_guide_shows_its_main_files():
    assert {
        "docs/deploy/secrets.env.example",
        "docs/deploy/postgres-setup.sql",
        "docs/deploy/systemd/kkik-run.service",
    } <= set(shown_files())


@pytest.mark.parametrize("path", sorted(shown_files()))
def test_every_file_the_guide_shows_is_the_file_in_the_repository(path: str):
    assert shown_files()[path] == (ROOT / path).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", mentioned_paths())
def test_every_deploy_path_the_guide_names_exists(path: str):
    assert (ROOT / path).exists(), path


@pytest.mark.parametrize("name", mentioned_units())
def test_every_unit_the_guide_names_is_in_the_repository(name: str):
    assert (SYSTEMD / name).is_file(), name


def test_every_file_under_docs_deploy_is_in_the_guide():
    """Nothing ships that the guide does not explain."""
    named = set(mentioned_paths()) | {f"docs/deploy/systemd/{u}" for u in mentioned_units()}
    present = {str(p.relative_to(ROOT)) for p in DEPLOY.rglob("*") if p.is_file()}
    assert present - named == set()


def test_the_server_configuration_passes_the_loader_and_names_the_env_file_secrets():
    example = read_env_file(DEPLOY / "secrets.env.example")
    assert set(example) == _config_secret_names()
    # The example holds no secret of anyone's: every value is left to the administrator.
    assert all(value == "" for value in example.values()), example


def test_the_config_check_accepts_the_server_configuration(tmp_path: Path):
    secrets = dict.fromkeys(_config_secret_names(), "x" * 48)
    result = subprocess.run(
        [str(KKIK), "--lang", "en", "config", "check", "--secrets", str(DEPLOY / "config.toml")],
        env=clean_environ(set(secrets)) | secrets,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "OK\n", "")


def _verify(folder: Path, name: str) -> subprocess.CompletedProcess[str]:
    if SYSTEMD_ANALYZE is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze not found (Debian: systemd; scripts/system-deps.sh)")
        pytest.skip("systemd-analyze not found (Debian: systemd)")
    # Loaded by name from the unit path, so drop-ins in NAME.d/ beside the unit apply too.
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", name],
        env=os.environ | {"SYSTEMD_UNIT_PATH": f"{folder}:"},
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _rendered_units(folder: Path) -> Path:
    """Every unit of docs/deploy/systemd with its commands pointed at this machine's files."""
    folder.mkdir()
    for unit in UNITS:
        (folder / unit).write_text(
            render((SYSTEMD / unit).read_text(encoding="utf-8"), folder), encoding="utf-8"
        )
    return folder


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_passes_systemd_analyze_verify(tmp_path: Path, name: str):
    folder = _rendered_units(tmp_path / "units")
    result = _verify(folder, name)
    # verify exits 0 on unknown keys and bad values, but says so: any output is a finding.
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_verify_would_see_a_mistake(tmp_path: Path):
    """The check above can fail: a misspelt key in a rendered unit is reported."""
    folder = _rendered_units(tmp_path / "units")
    unit = folder / "kkik-run.service"
    unit.write_text(unit.read_text().replace("PrivateTmp=", "PrivatTmp="), encoding="utf-8")
    assert "PrivatTmp" in _verify(folder, "kkik-run.service").stderr


@pytest.mark.parametrize("name", [u for u in UNITS if u.startswith("kkik-run") or "serve" in u])
def test_the_credentials_drop_in_passes_verify_on_each_service(tmp_path: Path, name: str):
    folder = _rendered_units(tmp_path / "units")
    (folder / f"{name}.d").mkdir()
    shutil.copy(SYSTEMD / "credentials.conf", folder / f"{name}.d" / "credentials.conf")
    result = _verify(folder, name)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_credentials_give_the_harness_every_secret(tmp_path: Path):
    """systemd puts each credential in %d; the NAME_FILE variables lead the harness there."""
    drop_in = parse_unit((SYSTEMD / "credentials.conf").read_text(encoding="utf-8"))
    assert drop_in.all("EnvironmentFile") == [""]  # the env file is switched off
    credentials = tmp_path / "credentials"  # what %d is while the service runs
    credentials.mkdir()
    for line in drop_in.all("LoadCredential"):
        name, _, source = line.partition(":")
        assert source == f"/etc/kkik/credentials/{name}"
        (credentials / name).write_text(f"{name}-" + "s" * 40 + "\n", encoding="utf-8")
    variables = {
        name: value.replace("%d", str(credentials)) for name, value in drop_in.environment().items()
    }
    names = _config_secret_names()
    assert {n.removesuffix("_FILE") for n in variables} == names
    result = subprocess.run(
        [str(KKIK), "--lang", "en", "config", "check", "--secrets", str(DEPLOY / "config.toml")],
        env=clean_environ(names) | variables,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "OK\n", "")
    # And without them the same check names what is missing: the variables did the work.
    result = subprocess.run(
        [str(KKIK), "--lang", "en", "config", "check", "--secrets", str(DEPLOY / "config.toml")],
        env=clean_environ(names),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "KKIK_SESSION_SECRET" in result.stdout + result.stderr


def _kkik_arguments(unit: str) -> list[str]:
    command = parse_unit((SYSTEMD / unit).read_text(encoding="utf-8")).one("ExecStart").split()
    assert command[0] == SERVER_KKIK
    return command[1:]


@pytest.mark.parametrize("unit", [u for u in UNITS if u.startswith("kkik-run") or "serve" in u])
def test_each_service_command_is_one_kkik_accepts(unit: str):
    """Every option of ExecStart exists: `kkik … --help` fails on an unknown one."""
    result = subprocess.run(
        [str(KKIK), "--lang", "en", *_kkik_arguments(unit), "--help"],
        env=clean_environ(set()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
