# WebSocket ops seeds: (flags, text) with flags bit 0 binary (msgpack), bit 1 session, bit 2 close and reopen
import json, os
exec(open('tests/fuzz/seeds/native.py').read())
d = 'tests/fuzz/corpus/gw_ops'
def ops(name, items):
    out = bytearray()
    for flags, o in items:
        out.append(flags)
        if flags & 4:
            out.append(0); continue
        b = mp(o) if flags & 1 else json.dumps(o, separators=(',', ':')).encode()
        out += bytes([len(b)]) if len(b) < 0xEF else bytes([0xEF, len(b) >> 8, len(b) & 255])
        out += b
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), 'wb').write(bytes(out))
ops('topics', [(0, {'op': 'subscribe', 'topic': 'chat.*', 'req': 1}), (2, {'op': 'publish', 'topic': 'chat.a', 'data': {'t': 21}, 'req': 'p'}),
               (0, {'op': 'unsubscribe', 'topic': 'chat.*', 'req': 2}), (1, {'op': 'subscribe', 'topic': '*', 'req': 3}), (2, {'op': 'publish', 'topic': 'x', 'data': 'hello'})])
ops('queues', [(0, {'op': 'consume', 'queue': 'jobs', 'prefetch': 2, 'req': 1}), (2, {'op': 'send', 'queue': 'jobs', 'data': 42, 'reply': True, 'req': 's'}),
               (0, {'op': 'ack', 'id': '1', 'data': 'done', 'req': 2}), (2, {'op': 'task', 'id': '1', 'req': 't'}), (2, {'op': 'send', 'queue': 'jobs', 'data': [1], 'priority': 3, 'ack-timeout': 100}),
               (0, {'op': 'nack', 'id': '2'}), (0, {'op': 'fail', 'id': '2', 'reason': 'no'}), (0, {'op': 'cancel', 'queue': 'jobs'}), (4, None)])
ops('rooms', [(0, {'op': 'join', 'room': 'lobby', 'req': 1}), (2, {'op': 'join', 'room': 'lobby', 'mode': 'async', 'req': 2}), (2, {'op': 'send', 'room': 'lobby', 'data': 'hi', 'priority': 1, 'req': 3}),
              (0, {'op': 'ack', 'room': 'lobby', 'token': '1', 'req': 4}), (0, {'op': 'send', 'room': 'lobby', 'data': 'o', 'oob': True}), (2, {'op': 'peek', 'room': 'lobby', 'offset': 0, 'limit': 2}),
              (2, {'op': 'state', 'room': 'lobby'}), (0, {'op': 'metrics', 'top': 2}), (0, {'op': 'ping'}), (0, {'op': 'leave', 'room': 'lobby'}), (6, None)])
ops('msgpack', [(1, {'op': 'subscribe', 'topic': 't', 'req': 1}), (3, {'op': 'publish', 'topic': 't', 'data': [1, 'x']}), (1, {'op': 'join', 'room': 'r'}), (3, {'op': 'send', 'queue': 'q', 'data': None})])
ops('errors', [(0, {'op': 'nope'}), (0, {'req': [1], 'op': 'ping'}), (0, [1]), (0, {'op': 'send', 'queue': 'q'}), (0, {'op': 'subscribe', 'topic': ''}), (0, {'op': 'unsubscribe', 'topic': 'never', 'req': 'u'}),
               (0, {'op': 'ack', 'id': 'x'}), (0, {'op': 'task', 'id': '999'})])
