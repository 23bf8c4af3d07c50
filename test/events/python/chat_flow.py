"""The guide's chat flow from python-socketio (Debian's python3-socketio 5.x), with one-argument
handlers as a Python client writes them. Run by test/events/python-client.test.ts:

    python3 chat_flow.py URL TRANSPORTS ALICE_TOKEN BOB_TOKEN CHAT_ID [offsets]

TRANSPORTS is "websocket", "polling" or "polling,websocket" (polling, then the upgrade). With a
sixth argument "offsets" the clients keep the server's default (a trailing recovery offset on
each broadcast) and report the arguments they got. Prints one JSON object with what was checked;
any failed check raises, so the exit status is non-zero.
"""
import json
import os
import time
import sys
import threading
import traceback
import uuid

import socketio

TIMEOUT = 10
URL, TRANSPORTS, ALICE_TOKEN, BOB_TOKEN, CHAT_ID = sys.argv[1:6]
TRANSPORTS = TRANSPORTS.split(",")
KEEP_OFFSETS = len(sys.argv) > 6 and sys.argv[6] == "offsets"
CITY = {"cityId": "mumbai"}
CHAT = {"chatId": CHAT_ID}


class Peer:
    """One connected client that records every event it hears, one argument per event."""

    def __init__(self, token):
        self.sio = socketio.Client(reconnection=False)
        self.heard = {}
        self.errors = []
        self.cond = threading.Condition()
        self.token = token

    def listen(self, *events):
        for event in events:
            self.sio.on(event, self._recorder(event))

    def _recorder(self, event):
        def handler(data):  # exactly one argument: the guide's payload
            with self.cond:
                self.heard.setdefault(event, []).append(data)
                self.cond.notify_all()

        return handler

    def connect(self, wait=True):
        # The one line a client that keeps no offsets adds: "offsets": False.
        auth = {"token": self.token} if KEEP_OFFSETS else {"token": self.token, "offsets": False}
        self.sio.connect(URL, auth=auth, transports=TRANSPORTS, wait=wait, wait_timeout=TIMEOUT)

    def wait(self, event, match=lambda data: True):
        with self.cond:
            found = self.cond.wait_for(
                lambda: any(match(d) for d in self.heard.get(event, [])), TIMEOUT
            )
        if not found:
            raise AssertionError(f"no {event} matching; heard {sorted(self.heard)}")
        return next(d for d in self.heard[event] if match(d))

    def call(self, event, payload=None):
        if payload is None:
            return self.sio.call(event, timeout=TIMEOUT)
        return self.sio.call(event, payload, timeout=TIMEOUT)


STARTED = time.monotonic()


def mark(what):
    print(f"{time.monotonic() - STARTED:.2f}s {what}", file=sys.stderr)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def keeping_offsets():
    """Default server settings: what a handler taking any arguments receives per broadcast."""
    alice, bob = Peer(ALICE_TOKEN), Peer(BOB_TOKEN)
    got = []
    bob.sio.on("new-city-message", lambda *args: got.append(len(args)))
    for peer in (alice, bob):
        peer.connect()
        check(peer.call("join-city-chat", CITY)["ok"], "join")
    alice.call("send-city-message", {**CITY, "content": "with offset"})
    bob.call("heartbeat", {})  # a barrier: everything before it has arrived
    for peer in (alice, bob):
        peer.sio.disconnect()
    return {"argumentsPerMessage": got}


def main():
    if KEEP_OFFSETS:
        print(json.dumps(keeping_offsets()))
        return
    out = {}
    # Refused: a bad token is a connect error with the guide's message.
    refused = Peer("not-a-token")
    refused.listen("connect_error")
    refused.connect(wait=False)
    out["badToken"] = refused.wait("connect_error")["message"]
    refused.sio.disconnect()

    alice, bob = Peer(ALICE_TOKEN), Peer(BOB_TOKEN)
    events = [
        "joined-city-chat", "new-city-message", "city-message-edited", "city-message-deleted",
        "user-typing-city", "user-stopped-typing-city", "city-online-users", "online-users",
        "user-online-status", "new-private-message", "messages-read", "joined-private-chat",
        "user-offline", "error",
    ]
    for peer in (alice, bob):
        peer.listen(*events)
        peer.connect()
    out["transport"] = alice.sio.transport()
    mark('out["transport"]')

    for peer in (alice, bob):
        check(peer.call("join-city-chat", CITY)["ok"], "join-city-chat ack")
        check(peer.wait("joined-city-chat")["cityId"] == "mumbai", "joined-city-chat")

    client_id = str(uuid.uuid4())
    sent = alice.call("send-city-message", {**CITY, "content": "hello from python", "clientId": client_id})
    check(sent["ok"], f"send ack {sent}")
    message_id = sent["message"]["_id"]
    heard = bob.wait("new-city-message", lambda m: m["_id"] == message_id)
    out["received"] = heard["content"]
    mark('out["received"]')

    edited = alice.call("edit-city-message", {**CITY, "messageId": message_id, "content": "edited"})
    check(edited["ok"], f"edit ack {edited}")
    out["edited"] = bob.wait("city-message-edited", lambda m: m["_id"] == message_id)["content"]

    alice.sio.emit("city-typing", CITY)
    out["typing"] = bob.wait("user-typing-city")["cityId"]
    alice.sio.emit("city-stop-typing", CITY)
    bob.wait("user-stopped-typing-city")

    deleted = alice.call("delete-city-message", {**CITY, "messageId": message_id})
    check(deleted["ok"], f"delete ack {deleted}")
    out["deleted"] = bob.wait("city-message-deleted")["messageId"] == message_id

    out["onlineCount"] = alice.call("get-online-count")["count"]
    online = alice.call("get-city-online-users", CITY)
    out["cityOnline"] = online["count"]
    status = alice.call("check-user-online", {"userId": sent["message"]["sender_id"]["_id"]})
    out["aliceOnline"] = status["isOnline"]
    mark('out["aliceOnline"]')

    for peer in (alice, bob):
        check(peer.call("join-private-chat", CHAT)["ok"], "join-private-chat")
    private = bob.call("send-private-message", {**CHAT, "content": "psst"})
    check(private["ok"], f"private send {private}")
    out["private"] = alice.wait("new-private-message", lambda m: m["_id"] == private["message"]["_id"])["content"]
    read = alice.call("mark-messages-read", CHAT)
    check(read["ok"], f"mark read {read}")
    out["readBy"] = bob.wait("messages-read")["chatId"] == CHAT_ID
    mark('out["readBy"]')

    # Refusals: an ack { ok: false, error } and an error event, the connection stays.
    not_joined = alice.call("send-city-message", {"cityId": "delhi", "content": "x"})
    bad = alice.call("send-city-message", {"cityId": "mumbai"})
    not_author = bob.call("edit-private-message", {**CHAT, "messageId": private["message"]["_id"], "content": "x"})
    not_author_alice = alice.call("edit-private-message", {**CHAT, "messageId": private["message"]["_id"], "content": "x"})
    stranger_chat = alice.call("join-private-chat", {"chatId": "0" * 24})
    out["refusals"] = [
        r["error"]["code"] for r in (not_joined, bad, not_author_alice, stranger_chat)
    ]
    out["ownEdit"] = not_author["ok"]
    alice.wait("error", lambda e: e["event"] == "join-private-chat")
    out["stillConnected"] = alice.call("heartbeat", {})["ok"]
    mark('out["stillConnected"]')

    bob.sio.disconnect()
    out["offline"] = alice.wait("user-offline")["username"] is not None
    mark('out["offline"]')
    alice.sio.disconnect()
    print(json.dumps(out))


try:
    main()
    sys.stdout.flush()
    os._exit(0)
except Exception:  # the client's threads must not keep a failed run alive
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)
