import pytest


@pytest.fixture(autouse=True)
def _no_network(socket_disabled: None) -> None:
    """Contract tests answer in-process: any socket use is a bug."""
