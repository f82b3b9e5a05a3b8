"""The gRPC sidecar: hosts the face model and animates many characters at once.

    session    one Animate stream's state: config validation, features, model state, emotion, idle, output
    scheduler  one task that batches every ready stream's 20 ms step into one model call per tick
    service    the emobridge.v1.EmoBridge servicer (Animate, Bake, GetInfo), health, reflection, shutdown
    metrics    Prometheus text metrics and their HTTP endpoint
Run it with ``emobridge serve``; the wire contract is proto/emobridge/v1/emobridge.proto.
"""

from emobridge.server.service import EmoBridgeService, LiveLinkDefault, Server, start_server
from emobridge.server.session import Limits, Session, SessionError

__all__ = ["EmoBridgeService", "Limits", "LiveLinkDefault", "Server", "Session", "SessionError", "start_server"]
