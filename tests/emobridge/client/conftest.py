"""The server tests' fixtures (speech, a sidecar on localhost), shared by loading that conftest."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_emobridge_server_conftest", Path(__file__).parents[1] / "server" / "conftest.py")
_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_server)

ServerThread = _server.ServerThread
speech = _server.speech
server = _server.server
make_server = _server.make_server
