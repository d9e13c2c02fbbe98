"""Fixtures shared by the turn detector's tests."""

import pytest

from ten_packages.extension.turn_detector.tests.scripted_turn_server import ScriptedTurnServer


@pytest.fixture
def turn_server():
    server = ScriptedTurnServer()
    yield server
    server.close()
