"""docker-compose.yml and the Dockerfile: valid against the Compose specification's schema
(the copy check-jsonschema ships, so no network), and wired as the README says: every
long-running service has a healthcheck, everything waits for what it needs, the services'
settings are ones voxregen accepts and that match the servers' own credentials, and MinIO lets
a page at the API's origin use its URLs."""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import yaml

from tests.integration.test_wheel_install import WHEEL_SOURCES
from voxregen_adapters.minio_object_store import MinioObjectStore
from voxregen_adapters.settings import AuthMode, load_settings
from voxregen_adapters.storage_url import object_store_from_url

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
CHECK_JSONSCHEMA = str(Path(sys.executable).with_name("check-jsonschema"))
ONE_SHOT = {"migrate", "minio-setup"}


def _validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def test_the_compose_file_is_valid_against_the_compose_schema():
    done = _validate(COMPOSE_FILE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_the_schema_check_rejects_a_misspelt_key(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("healthcheck:", "helthcheck:", 1))
    done = _validate(broken)
    assert done.returncode == 1
    assert "'helthcheck' was unexpected" in done.stdout


def test_the_stack_has_its_services_and_each_long_running_one_a_healthcheck(services):
    assert set(services) == {"api", "worker", "postgres", "redis", "minio", *ONE_SHOT}
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
        else:
            assert service["restart"] == "unless-stopped"
            assert service["healthcheck"]["test"][0] == "CMD", name
    assert int(services["postgres"]["image"].split(":")[1]) >= 15
    assert services["redis"]["image"] == "redis:7"


def test_api_worker_and_migrate_run_the_one_image_with_their_commands(services):
    for name in ("api", "worker", "migrate"):
        assert (services[name]["build"], services[name]["image"]) == (".", "voxregen:latest")
    assert services["api"]["command"][:2] == ["voxregen", "api"]
    assert services["worker"]["command"] == ["voxregen", "worker"]
    assert services["migrate"]["command"] == ["voxregen", "migrate"]
    assert "mc mb --ignore-existing local/voxregen" in services["minio-setup"]["command"][0]


def test_each_service_waits_for_what_it_needs(services):
    def conditions(name: str) -> dict[str, str]:
        return {
            needed: dependency["condition"]
            for needed, dependency in services[name].get("depends_on", {}).items()
        }

    ready_stack = {
        "migrate": "service_completed_successfully",
        "minio-setup": "service_completed_successfully",
        "redis": "service_healthy",
    }
    assert conditions("api") == ready_stack
    assert conditions("worker") == ready_stack
    assert conditions("migrate") == {"postgres": "service_healthy"}
    assert conditions("minio-setup") == {"minio": "service_healthy"}


def test_the_settings_are_valid_and_match_the_servers_credentials(services):
    environment = services["api"]["environment"]
    assert services["worker"]["environment"] == services["migrate"]["environment"] == environment
    settings = load_settings(environment)
    assert settings.auth_mode is AuthMode.API_KEYS  # the API reaches beyond the machine

    database = sa.make_url(settings.database_url)
    postgres = services["postgres"]["environment"]
    assert (database.host, database.username, database.password, database.database) == (
        "postgres",
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    assert settings.redis_url.startswith("redis://redis:6379/")

    store = object_store_from_url(
        settings.storage_url, public_url=settings.public_url, signing_key=b""
    )
    assert isinstance(store, MinioObjectStore)
    minio = services["minio"]["environment"]
    credentials = f"s3://{minio['MINIO_ROOT_USER']}:{minio['MINIO_ROOT_PASSWORD']}@minio:9000/"
    assert settings.storage_url.startswith(credentials)
    assert "local/voxregen" in services["minio-setup"]["command"][0]


def test_minio_lets_a_page_at_the_apis_published_origin_use_its_urls(services):
    """A page the API serves PUTs uploads and GETs inputs and outputs on MinIO's presigned URLs
    from the API's origin: MinIO's CORS origins are, unless VOXREGEN_API_ORIGIN says otherwise,
    exactly that origin (the scheme, host and port of VOXREGEN_PUBLIC_URL, which the api
    service publishes), not MinIO's default of any origin."""
    allowed = services["minio"]["environment"]["MINIO_API_CORS_ALLOW_ORIGIN"]
    default = re.fullmatch(r"\$\{VOXREGEN_API_ORIGIN:-([^}]+)\}", allowed)
    assert default, allowed
    public = urlsplit(services["api"]["environment"]["VOXREGEN_PUBLIC_URL"])
    assert default.group(1) == f"{public.scheme}://{public.netloc}"
    assert f"{public.port}:8000" in services["api"]["ports"]


def test_data_lives_in_declared_named_volumes():
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    mounted = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
    }
    assert mounted == {"postgres-data", "redis-data", "minio-data"}
    assert set(compose["volumes"]) == mounted


def _stages() -> list[list[str]]:
    """The Dockerfile's stages, each its instructions (a continued line joined), from FROM on."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith("FROM "):
            stages.append([])
        if line and not line.startswith("#") and stages:
            stages[-1].append(" ".join(line.split()))
    return stages


def test_the_image_installs_the_wheel_on_python_3_11_slim_run_by_a_non_root_user():
    """Not run here (no Docker engine): read. The build stage makes the wheel with the pinned
    build backend; the image installs it with the constraints, not editable, with no source
    tree, and runs as a user."""
    build, image = _stages()
    assert build[0] == "FROM python:3.11-slim AS wheel"
    assert any("pip install -c constraints.txt setuptools wheel" in line for line in build)
    assert any(
        "pip wheel --no-deps --no-build-isolation --wheel-dir /wheels ." in line for line in build
    )
    assert image[0] == "FROM python:3.11-slim"
    assert "COPY --from=wheel /wheels /wheels" in image
    assert any(
        "pip install -c /wheels/constraints.txt /wheels/voxregen-*.whl" in line for line in image
    )
    assert not [line for line in build + image if "pip install -e" in line or line == "COPY . ."]
    copied_from_source = [
        line for line in image if line.startswith("COPY ") and "--from=" not in line
    ]
    assert copied_from_source == ["COPY constraints.txt /wheels/constraints.txt"]
    users = [line.split()[1] for line in image if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}


def test_the_build_context_holds_what_the_build_stage_copies():
    build, _ = _stages()
    sources = {
        source for line in build if line.startswith("COPY ") for source in line.split()[1:-1]
    }
    assert sources == {"constraints.txt", *WHEEL_SOURCES}  # what the wheel test builds from
    assert all((ROOT / source).exists() for source in sources)
    ignored = [
        line for line in (ROOT / ".dockerignore").read_text().splitlines() if line[:1] != "#"
    ]
    assert not sources & set(ignored)
