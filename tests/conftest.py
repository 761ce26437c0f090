import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def fernb_home(tmp_path_factory):
    """Every test session works in its own FERNB_HOME, never in the reader's data."""
    home = tmp_path_factory.mktemp("fernb_home")
    old = os.environ.get("FERNB_HOME")
    os.environ["FERNB_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("FERNB_HOME", None)
    else:
        os.environ["FERNB_HOME"] = old


@pytest.fixture(scope="session")
def smoke_raf(fernb_home):
    """The smoke-size synth-raf domain (280 images), generated once per session."""
    from fernb.data import load_dataset

    return load_dataset("synth-raf", profile="smoke", progress=False)


@pytest.fixture(scope="session")
def mocks(smoke_raf, tmp_path_factory):
    """A small copy of every real dataset's published layout, made from SynthFER images."""
    from fernb.data.mock import write_all

    return write_all(tmp_path_factory.mktemp("mocks"), smoke_raf)
