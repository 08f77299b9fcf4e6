"""Fixtures shared by several test files."""
import pytest

from tests.stack import ALWAYS_OPEN, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The whole product (action server, Rasa, gateway) with webchat staffed all day."""
    try:
        with running_stack(tmp_path_factory.mktemp("stack"), ALWAYS_OPEN) as running:
            yield running
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def prod_shape():
    """The scaled shape (bot/prod_local.py: PostgreSQL, Redis, 2 Rasa servers, 2 action servers,
    2 gateways, nginx) on free loopback ports, with webchat staffed all day. Started once for the
    prod tests; each test that breaks something puts it back."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from bot import prod_local, settings

    root = Path(__file__).resolve().parent.parent
    (root / "var").mkdir(exist_ok=True)
    # Under var/ rather than pytest's tmp: the postgres user must be able to reach the folder.
    base = Path(tempfile.mkdtemp(prefix="test-prod-", dir=root / "var"))
    base.chmod(0o755)
    hours = base / "service_hours.yml"
    hours.write_text(ALWAYS_OPEN)
    hours.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("RASA_TOKEN", "INTERNAL_TOKEN", "SESSION_SECRET")}
    env["SERVICE_HOURS_FILE"] = str(hours)
    env.update(settings.NO_ADDRESS_LIMITS)  # every test family reaches nginx from 127.0.0.1
    try:
        with prod_local.running_shape(base, prod_local.Ports.free(), quiet=True, env=env) as running:
            yield running
    except prod_local.ShapeError as error:
        pytest.fail(str(error))
    finally:
        shutil.rmtree(base, ignore_errors=True)
