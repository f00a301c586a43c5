# zg_fuzz_qcore seeds: ops as the target's header says ([op][argument] and, for SEND/CALL and READY, a length
# byte and an options frame), the traffic of the queues actor's tests and of corpus/queues in the core's terms.
# Run from the top directory: python3 tests/fuzz/seeds/qcore.py
import os
import msgpack

d = 'tests/fuzz/corpus/qcore'
JOBS, CMD, DEAD, OTHER = 0, 1, 2, 3


def send(name, producer=0, call=False, size=1, options=None):
    frame = msgpack.packb(options) if options is not None else b''
    return bytes([0, name | (4 if call else 0) | producer << 3 | size << 5, len(frame)]) + frame


def ready(connection, worker, options):
    frame = msgpack.packb(options)
    return bytes([1, connection | worker << 1, len(frame)]) + frame


def answer(op, connection, worker, which=0):          # op: 2 ACK, 3 FAIL, 4 NACK
    return bytes([op, connection | worker << 1 | which << 3])


def bye(connection, worker):
    return bytes([5, connection | worker << 1])


def clock(root):                                       # root squared ms
    return bytes([6, root])


def ping(connection, worker):
    return bytes([7, connection | worker << 1])


def write(name, ops):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as file:
        file.write(b''.join(ops))


write('send-ready-ack', [send(JOBS, options={'reply': True}), ready(0, 0, {'queues': ['jobs'], 'prefetch': 2}),
                         answer(2, 0, 0), send(JOBS, 1, options={'reply': True, 'priority': 2}),
                         answer(2, 0, 0, 1), ping(0, 0)])
write('nack-fail-dead-letters', [send(JOBS, options={'reply': True, 'ack-timeout': 100}), send(JOBS, 2),
                                 ready(0, 0, {'queues': ['jobs', 'jobs.dead']}), answer(4, 0, 0), answer(4, 0, 0),
                                 ready(1, 1, {'queues': ['jobs'], 'prefetch': 3}), answer(3, 1, 1), clock(20),
                                 clock(20), bye(0, 0)])
write('call-scatter', [ready(0, 0, {'commands': ['cmd']}), ready(1, 2, {'commands': ['cmd'], 'prefetch': 1}),
                       send(CMD, call=True, options={'scatter': True, 'timeout': 500}), answer(2, 0, 0),
                       send(CMD, 1, call=True, options={'scatter': True, 'reply': True}), bye(1, 2),
                       send(CMD, 2, call=True, options={'reply': True}), answer(2, 0, 0, 1)])
write('timers', [ready(0, 1, {'queues': ['other'], 'prefetch': 3}), send(OTHER, options={'reply': True, 'timeout': 50}),
                 send(OTHER, 1, options={'ack-timeout': 1000}), clock(18), clock(60), ping(0, 1), clock(60),
                 send(JOBS, 2, options={'reply': True}), clock(100), clock(255)])
write('limits', [send(JOBS, p % 3) for p in range(5)] + [send(OTHER, size=7)] +
      [ready(c, w, {'queues': ['jobs', 'other', 'q%d' % w], 'commands': ['cmd']}) for c in (0, 1) for w in (0, 1, 2)] +
      [send(CMD, call=True, options={'scatter': True, 'reply': True}), send(JOBS, call=True),
       send(JOBS, options={'scatter': True}), ready(0, 0, {'queues': []})])
write('errors', [send(JOBS, options={'priority': 99}), send(JOBS, options={'bogus': 1}), ready(0, 0, {'prefetch': 0}),
                 ready(0, 0, {'queues': ['bad name']}), answer(2, 1, 1), bytes([0, 0, 9, 0x81])])
write('scatter-pinned', [ready(0, 0, {'commands': ['cmd'], 'prefetch': 1}),
                         send(CMD, call=True, options={'scatter': True, 'reply': True}),
                         send(CMD, 1, call=True, options={'scatter': True}),
                         send(CMD, 2, call=True, options={'scatter': True, 'reply': True}),
                         answer(2, 0, 0), answer(2, 0, 0), answer(3, 0, 0), answer(2, 0, 0)])


def take(count, first, producer=0, ack_timeout=False):   # count 0: every queue
    return bytes([8, count | first << 2 | producer << 5 | (0x80 if ack_timeout else 0)])


def finish(which=0, retry=False, output=False):
    return bytes([9, which | (0x40 if output else 0) | (0x80 if retry else 0)])


def read(which):
    return bytes([10, which])


write('take-finish-retry', [send(JOBS, options={'until-read': True}), send(OTHER, 1, options={'reply': True, 'priority': 2}),
                            take(0, 0), finish(output=True), take(1, 0, 1, True), finish(retry=True), take(2, 0, 2),
                            clock(11), take(1, 3), finish(), read(0), read(1),
                            ready(0, 0, {'queues': ['jobs']}), send(JOBS, options={'until-read': True}), take(0, 0)])
write('ttl', [send(JOBS, options={'ttl': 200, 'reply': True}), send(OTHER, 1), send(DEAD, 2, options={'ttl': 50}), clock(15),
              ready(0, 0, {'queues': ['jobs.dead', 'other']}), clock(40), take(0, 0), clock(80)])
