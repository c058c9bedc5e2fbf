"""The migrations against real PostgreSQL: the brief's columns exactly, a reversible history,
metadata that matches the head revision, and the `voxregen migrate` / `voxregen seed` commands."""

import contextlib
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from voxregen_adapters.db import migrate
from voxregen_adapters.db.engine import create_database_engine
from voxregen_adapters.db.profile_repository import PostgresSingerProfileRepository
from voxregen_adapters.db.render_job_repository import PostgresRenderJobRepository
from voxregen_adapters.db.tables import metadata
from voxregen_adapters.seed import DEMO_JOB_ID, DEMO_PROFILE_ID, DEMO_USER_ID
from voxregen_core.jobs import JobStatus, Progress, RenderJob
from voxregen_core.keys import job_input_key
from voxregen_core.profile_stub import EMBEDDING_DIMS
from voxregen_core.profiles import ProfileStatus, SingerProfile

HEAD = "0008"
"""The newest revision."""

VOXREGEN = str(Path(sys.executable).with_name("voxregen"))
REPO = Path(__file__).resolve().parents[2]
TABLES = {
    "singer_profiles",
    "singer_references",
    "singer_exemplars",
    "stem_feature_cache",
    "render_jobs",
    "idempotency_keys",
    "webhook_secrets",
    "api_keys",
}

# (column, PostgreSQL type, nullable), in table order: the brief's columns, plus the two
# columns a failed job needs (render_jobs.error_code, error_message; docs/schema.md); and
# render_jobs.singer_profile_id nullable since revision 0004 (a profile's deletion keeps its
# finished jobs); issue 12's idempotency_keys (0005), and its webhook columns and
# webhook_secrets (0006); issue 13's api_keys (0007) and retention marks on render_jobs (0008).
COLUMNS = {
    "singer_profiles": [
        ("id", "uuid", False),
        ("user_id", "uuid", False),
        ("name", "text", False),
        ("status", "profile_status", False),
        ("embedding_version", "text", True),
        ("profile_embedding", "bytea", True),
        ("cluster_embeddings", "bytea", True),
        ("stats", "jsonb", False),
        ("created_at", "timestamp with time zone", False),
        ("updated_at", "timestamp with time zone", False),
    ],
    "singer_references": [
        ("id", "uuid", False),
        ("user_id", "uuid", False),
        ("singer_profile_id", "uuid", False),
        ("object_key", "text", False),
        ("duration_sec", "double precision", False),
        ("quality_metrics", "jsonb", False),
        ("accepted", "boolean", False),
        ("created_at", "timestamp with time zone", False),
    ],
    "singer_exemplars": [
        ("id", "uuid", False),
        ("singer_profile_id", "uuid", False),
        ("embedding", "bytea", False),
        ("f0_p50", "double precision", False),
        ("f0_p90", "double precision", False),
        ("voiced_pct", "double precision", False),
        ("energy", "double precision", False),
        ("source_reference_id", "uuid", False),
        ("created_at", "timestamp with time zone", False),
    ],
    "stem_feature_cache": [
        ("id", "uuid", False),
        ("user_id", "uuid", False),
        ("input_hash", "text", False),
        ("feature_version", "text", False),
        ("sample_rate", "integer", False),
        ("object_key", "text", False),
        ("duration_sec", "double precision", False),
        ("created_at", "timestamp with time zone", False),
        ("last_accessed_at", "timestamp with time zone", False),
    ],
    "render_jobs": [
        ("id", "uuid", False),
        ("user_id", "uuid", False),
        ("singer_profile_id", "uuid", True),  # issue 12: a finished job outlives its profile
        ("input_object_key", "text", False),
        ("output_object_key", "text", True),
        ("input_hash", "text", True),
        ("stem_feature_cache_id", "uuid", True),
        ("status", "job_status", False),
        ("params", "jsonb", False),
        ("progress", "jsonb", False),
        ("metrics", "jsonb", False),
        ("error_code", "text", True),
        ("error_message", "text", True),
        ("created_at", "timestamp with time zone", False),
        ("updated_at", "timestamp with time zone", False),
        ("webhook", "jsonb", True),
        ("webhook_last_attempt", "jsonb", True),
        ("webhook_progress_at", "timestamp with time zone", True),
        ("chunks_expired_at", "timestamp with time zone", True),
        ("input_expired_at", "timestamp with time zone", True),
        ("output_expired_at", "timestamp with time zone", True),
    ],
    "idempotency_keys": [
        ("user_id", "uuid", False),
        ("key", "text", False),
        ("fingerprint", "text", False),
        ("status_code", "integer", True),
        ("body", "bytea", True),
        ("created_at", "timestamp with time zone", False),
        ("answered_at", "timestamp with time zone", True),
    ],
    "webhook_secrets": [
        ("user_id", "uuid", False),
        ("secret", "text", False),
        ("created_at", "timestamp with time zone", False),
    ],
    "api_keys": [
        ("id", "uuid", False),
        ("user_id", "uuid", False),
        ("name", "text", False),
        ("prefix", "text", False),
        ("digest", "text", False),
        ("created_at", "timestamp with time zone", False),
        ("last_used_at", "timestamp with time zone", True),
        ("revoked_at", "timestamp with time zone", True),
    ],
}


def _query(url: str, sql: str) -> list[tuple]:
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    rows = _query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name for (name,) in rows}


def _schema_objects(url: str) -> list[tuple]:
    """Types and functions we own (tables are checked by name)."""
    return _query(
        url,
        "SELECT 'type', typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE nspname = 'public' AND typtype = 'e' "
        "UNION ALL SELECT 'function', proname FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = 'public' ORDER BY 1, 2",
    )


@pytest.fixture
def migrated_url(fresh_database_url) -> str:
    migrate.upgrade(fresh_database_url)
    return fresh_database_url


def test_upgrade_downgrade_to_base_and_upgrade_again(fresh_database_url):
    url = fresh_database_url
    migrate.upgrade(url)
    assert _tables(url) == TABLES | {"alembic_version"}
    created = _schema_objects(url)
    assert created == [
        ("function", "set_updated_at"),
        ("type", "job_status"),
        ("type", "profile_status"),
    ]
    migrate.downgrade(url, "base")
    assert _tables(url) == {"alembic_version"}
    assert _schema_objects(url) == []
    assert migrate.current_revision(url) is None
    migrate.upgrade(url)
    assert _tables(url) == TABLES | {"alembic_version"}
    assert _schema_objects(url) == created
    assert migrate.current_revision(url) == migrate.head_revision() == HEAD


def test_downgrading_past_0003_keeps_a_canceled_job_as_failed_with_code_canceled(
    fresh_database_url,
):
    url = fresh_database_url
    migrate.upgrade(url)
    engine = create_database_engine(url)
    try:
        profiles, jobs = (
            PostgresSingerProfileRepository(engine),
            PostgresRenderJobRepository(engine),
        )
        profile = profiles.add(
            SingerProfile(
                id=uuid.uuid4(), user_id=DEMO_USER_ID, name="A", status=ProfileStatus.BUILDING
            )
        )
        job = jobs.add(
            RenderJob(
                id=uuid.uuid4(),
                user_id=DEMO_USER_ID,
                singer_profile_id=profile.id,
                input_object_key=job_input_key(DEMO_USER_ID, uuid.uuid4()),
            )
        )
        move = {"user_id": DEMO_USER_ID, "job_id": job.id, "from_status": JobStatus.QUEUED}
        assert jobs.transition(**move, to_status=JobStatus.CANCELED)
    finally:
        engine.dispose()

    migrate.downgrade(url, "0002")
    assert _query(url, "SELECT status, error_code FROM render_jobs") == [("failed", "canceled")]
    assert _query(url, "SELECT enum_range(NULL::job_status)::text") == [
        ("{queued,running,done,failed}",)
    ]
    migrate.upgrade(url)
    assert _query(url, "SELECT enum_range(NULL::job_status)::text") == [
        ("{queued,running,done,failed,canceled}",)
    ]


def _differences(url: str, target: sa.MetaData) -> list:
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            return compare_metadata(context, target)
    finally:
        engine.dispose()


def test_the_table_definitions_match_the_head_revision(migrated_url):
    assert _differences(migrated_url, metadata) == []


def test_the_comparison_would_see_a_drift(migrated_url):
    drifted = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["singer_profiles"].append_column(sa.Column("nickname", sa.Text))
    differences = _differences(migrated_url, drifted)
    assert [(kind, table, column.name) for kind, _, table, column in differences] == [
        ("add_column", "singer_profiles", "nickname")
    ]


def test_every_column_has_the_briefs_name_type_and_nullability(migrated_url):
    rows = _query(
        migrated_url,
        "SELECT table_name, column_name, "
        "CASE data_type WHEN 'USER-DEFINED' THEN udt_name ELSE data_type END, "
        "is_nullable = 'YES' FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name <> 'alembic_version' "
        "ORDER BY table_name, ordinal_position",
    )
    found: dict[str, list[tuple]] = {}
    for table, column, data_type, nullable in rows:
        found.setdefault(table, []).append((column, data_type, nullable))
    assert found == COLUMNS


def test_the_status_enums_hold_the_domains_values(migrated_url):
    rows = _query(
        migrated_url,
        "SELECT typname, array_agg(enumlabel ORDER BY enumsortorder)::text[] FROM pg_enum "
        "JOIN pg_type ON pg_type.oid = enumtypid GROUP BY typname",
    )
    assert dict(rows) == {
        "profile_status": [status.value for status in ProfileStatus],
        "job_status": [status.value for status in JobStatus],
    }


def test_keys_indexes_defaults_and_the_feature_cache_uniqueness(migrated_url):
    indexes = _query(
        migrated_url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
    )
    assert {name for (name,) in indexes} == {
        "alembic_version_pkc",
        "pk_singer_profiles",
        "pk_singer_references",
        "pk_singer_exemplars",
        "pk_stem_feature_cache",
        "pk_render_jobs",
        "ix_singer_profiles_user_id",
        "ix_singer_references_user_id",
        "ix_singer_exemplars_singer_profile_id",
        "ix_stem_feature_cache_user_id",
        "ix_stem_feature_cache_input_hash",
        "ix_render_jobs_user_id",
        "ix_render_jobs_input_hash",
        "ix_singer_profiles_newest",
        "ix_singer_references_newest",
        "ix_render_jobs_newest",
        "ix_render_jobs_input",
        "ix_render_jobs_chunks_kept",
        "ix_render_jobs_input_kept",
        "ix_render_jobs_output_kept",
        "pk_idempotency_keys",
        "ix_idempotency_keys_created_at",
        "pk_webhook_secrets",
        "pk_api_keys",
        "ix_api_keys_user_id",
        "uq_api_keys_digest",
        "uq_stem_feature_cache_user_id_input_hash_feature_version",
    }
    foreign_keys = _query(
        migrated_url,
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' ORDER BY 1, 2",
    )
    assert foreign_keys == [
        (
            "render_jobs",
            "FOREIGN KEY (singer_profile_id) REFERENCES singer_profiles(id) ON DELETE SET NULL",
        ),
        (
            "render_jobs",
            "FOREIGN KEY (stem_feature_cache_id) REFERENCES stem_feature_cache(id) "
            "ON DELETE SET NULL",
        ),
        (
            "singer_exemplars",
            "FOREIGN KEY (singer_profile_id) REFERENCES singer_profiles(id) ON DELETE CASCADE",
        ),
        (
            "singer_exemplars",
            "FOREIGN KEY (source_reference_id) REFERENCES singer_references(id) ON DELETE CASCADE",
        ),
        (
            "singer_references",
            "FOREIGN KEY (singer_profile_id) REFERENCES singer_profiles(id) ON DELETE CASCADE",
        ),
    ]
    defaults = _query(
        migrated_url,
        "SELECT table_name || '.' || column_name, column_default FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_default IS NOT NULL ORDER BY 1",
    )
    assert dict(defaults) == {
        "render_jobs.created_at": "now()",
        "render_jobs.updated_at": "now()",
        "singer_exemplars.created_at": "now()",
        "singer_profiles.created_at": "now()",
        "singer_profiles.updated_at": "now()",
        "singer_references.accepted": "true",
        "singer_references.created_at": "now()",
        "stem_feature_cache.created_at": "now()",
        "stem_feature_cache.last_accessed_at": "now()",
        "webhook_secrets.created_at": "now()",
        "api_keys.created_at": "now()",
    }


def test_offline_mode_writes_the_migration_sql():
    out = io.StringIO()
    config = migrate.alembic_config("postgresql://nobody@127.0.0.1:1/none")
    config.stdout = out
    with contextlib.redirect_stdout(out):
        command.upgrade(config, "head", sql=True)
    sql = out.getvalue()
    assert "CREATE TYPE profile_status AS ENUM ('building', 'ready', 'error');" in sql
    assert "CREATE TABLE render_jobs (" in sql
    assert "CREATE TRIGGER render_jobs_set_updated_at BEFORE UPDATE ON render_jobs" in sql


def test_the_alembic_cli_of_docs_schema_md_runs_the_same_scripts_from_the_repository():
    """``alembic upgrade head --sql`` with the repository's alembic.ini, as a developer runs it:
    the scripts it finds are the package's (voxregen_adapters/db/migrations)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("VOXREGEN_")}
    env["VOXREGEN_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("alembic")), "upgrade", "head", "--sql"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "CREATE TABLE render_jobs (" in done.stdout
    head = migrate.head_revision()
    assert f"SET version_num='{head}'" in done.stdout  # the last revision's step


# --- the real `voxregen migrate` and `voxregen seed` ---------------------------------------


def _voxregen(command_name: str, *, database_url: str | None) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("VOXREGEN_")}
    if database_url is not None:
        env["VOXREGEN_DATABASE_URL"] = database_url
    return subprocess.run(
        [VOXREGEN, command_name],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def _row_counts(url: str) -> dict[str, int]:
    return {table: _query(url, f"SELECT count(*) FROM {table}")[0][0] for table in sorted(TABLES)}


def test_migrate_then_seed_through_the_cli(fresh_database_url):
    url = fresh_database_url
    early = _voxregen("seed", database_url=url)
    assert (early.returncode, early.stderr) == (
        2,
        "voxregen: error: the database is not at the newest schema; run `voxregen migrate` first\n",
    )
    migrated = _voxregen("migrate", database_url=url)
    assert (migrated.returncode, migrated.stderr) == (
        0,
        f"voxregen: database at revision {HEAD} (the newest)\n",
    )
    assert migrate.current_revision(url) == HEAD

    seeded = _voxregen("seed", database_url=url)
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stderr.startswith(f"voxregen: seeded demo user {DEMO_USER_ID}: ready profile")
    counts = _row_counts(url)
    assert counts == dict.fromkeys(sorted(TABLES), 1) | {
        "idempotency_keys": 0,
        "webhook_secrets": 0,
        "api_keys": 0,
    }

    engine = create_database_engine(url)
    try:
        profile = PostgresSingerProfileRepository(engine).get(
            user_id=DEMO_USER_ID, profile_id=DEMO_PROFILE_ID
        )
        job = PostgresRenderJobRepository(engine).get(user_id=DEMO_USER_ID, job_id=DEMO_JOB_ID)
    finally:
        engine.dispose()
    assert profile.status is ProfileStatus.READY
    assert len(profile.profile_embedding) == EMBEDDING_DIMS * 4  # float32
    assert job.status is JobStatus.DONE
    assert job.progress == Progress(chunks_done=3, chunks_total=3)
    assert job.stem_feature_cache_id is not None and job.output_object_key.endswith("output.wav")

    again = _voxregen("seed", database_url=url)
    assert again.returncode == 0 and "demo rows already there" in again.stderr
    assert _row_counts(url) == counts
    assert (_voxregen("migrate", database_url=url).returncode, migrate.current_revision(url)) == (
        0,
        HEAD,
    )


@pytest.mark.parametrize(
    ("command_name", "database_url", "message"),
    [
        ("migrate", None, "VOXREGEN_DATABASE_URL is not set; set it to postgresql://"),
        (
            "seed",
            "postgresql://postgres@127.0.0.1:1/none",
            "cannot use the database: connection failed",
        ),
        (
            "migrate",
            "mysql://db/voxregen",
            "VOXREGEN_DATABASE_URL='mysql://db/voxregen' is malformed",
        ),
    ],
)
def test_migrate_and_seed_fail_with_one_line(command_name, database_url, message):
    done = _voxregen(command_name, database_url=database_url)
    assert done.returncode == 2
    assert done.stderr.startswith(f"voxregen: error: {message}")
    assert done.stderr.count("\n") == 1
