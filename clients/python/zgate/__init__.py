"""zgate's Python client: every pattern natively (pyzmq) and the gateway's WebSocket (websockets).

    from zgate import Publisher, Subscriber, History, Producer, Worker, Member, RoomClient, WebClient, ZgateError

Needs only Debian's python3-zmq, python3-msgpack and python3-websockets. The wire protocol is
docs/PROTOCOL.md; each class says which section it speaks.
"""
from .errors import ZgateError
from .topics import History, Message, Publisher, Subscriber
from .queues import Producer, Worker
from .rooms import Member, RoomClient
from .web import WebClient

DEFAULTS = {
    "topics_publishers": "tcp://127.0.0.1:5561",
    "topics_subscribers": "tcp://127.0.0.1:5560",
    "topics_history": "tcp://127.0.0.1:5565",
    "queues_producers": "tcp://127.0.0.1:5562",
    "queues_workers": "tcp://127.0.0.1:5563",
    "rooms_clients": "tcp://127.0.0.1:5564",
    "web": "ws://127.0.0.1:8080/ws",
}

__all__ = ["Publisher", "Subscriber", "History", "Message", "Producer", "Worker", "Member", "RoomClient", "WebClient",
           "ZgateError", "DEFAULTS"]
