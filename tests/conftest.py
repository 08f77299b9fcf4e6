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
