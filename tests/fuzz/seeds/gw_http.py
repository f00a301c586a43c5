# HTTP route seeds: (method 0 GET / 1 POST / 2 OPTIONS / 3 DELETE / 4 other, path, body)
import os
d = 'tests/fuzz/corpus/gw_http'
def field(b):
    b = b.encode() if isinstance(b, str) else b
    return (bytes([len(b)]) if len(b) < 0xEF else bytes([0xEF, len(b) >> 8, len(b) & 255])) + b
def http(name, items):
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), 'wb').write(b''.join(bytes([m]) + field(p) + field(b) for m, p, b in items))
http('gophermq', [(1, '/api/subscribe', '{"subject":"a.b"}'), (1, '/api/publish', '{"subject":"a.b","data":"x"}'),
                  (1, '/api/publish/async', '{"subject":"a.b","data":"y"}'), (1, '/api/fetch', '{"subject":"a.b","id":"00000000-0000-0000-0000-000000000000"}'),
                  (1, '/api/subscribe', '{"subject":"a..b"}'), (1, '/api/publish', '{"subject":"a","data":1}')])
http('queues', [(1, '/api/queues/jobs', '{"data":{"n":1},"priority":2}'), (0, '/api/tasks/1', ''), (1, '/api/queues/jobs', '{"data":"w","wait":5}'),
                (0, '/api/tasks/x', ''), (1, '/api/queues/bad name', '{"data":1}')])
http('rooms', [(1, '/api/rooms/lobby', '{"data":"hi","priority":1}'), (1, '/api/rooms/lobby/oob', '{"data":[1]}'), (1, '/api/rooms/lobby', '{}')])
http('own', [(0, '/ready', ''), (0, '/api/stats', ''), (0, '/metrics', ''), (1, '/ready', ''), (0, '/ws', ''), (0, '/missing', ''), (2, '/api/publish', '{}'),
             (0, '/', ''), (0, '/zgate.js', '')])
http('rooms-queries', [(1, '/api/rooms/lobby', '{"data":"a"}'), (0, '/api/rooms/lobby/peek?offset=0&limit=5', ''),
                       (0, '/api/rooms/lobby/peek?limit=1&offset=x', ''), (0, '/api/rooms/lobby/peek?offset', ''),
                       (0, '/api/rooms/lobby?top=1', ''), (0, '/api/rooms?top=2', ''), (0, '/api/rooms?top=-1&top=3', ''),
                       (0, '/api/rooms/lobby/peek?offset=9223372036854775807&limit=9223372036854775808', '')])
http('admin-delete-queries', [(1, '/api/queues/jobs', '{"data":1}'), (3, '/api/admin/queues/jobs?if-empty=true', ''),
                              (3, '/api/admin/queues/jobs?if-unused=maybe', ''), (3, '/api/admin/queues/jobs?if-empty', ''),
                              (3, '/api/admin/queues/jobs?if-empty=false&if-unused=false', ''), (0, '/api/admin/queues', '')])
