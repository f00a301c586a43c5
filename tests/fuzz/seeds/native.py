# Writes native fuzz seeds: each message is (connection, [frames]); a frame is bytes or an int ref (0..15)
import sys, os
def enc(msgs):
    out = bytearray()
    for conn, frames in msgs:
        out += bytes([conn, len(frames)])
        for f in frames:
            if isinstance(f, int):
                out.append(0xF0 + f); continue
            if isinstance(f, str): f = f.encode()
            if len(f) < 0xEF: out.append(len(f))
            else: out += bytes([0xEF, len(f) >> 8, len(f) & 255])
            out += f
    return bytes(out)
def write(d, name, msgs):
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), 'wb').write(enc(msgs))
def mp(o):
    if o is True: return b'\xc3'
    if o is False: return b'\xc2'
    if o is None: return b'\xc0'
    if isinstance(o, int):
        if 0 <= o < 128: return bytes([o])
        if -32 <= o < 0: return bytes([o & 255])
        return b'\xd3' + o.to_bytes(8, 'big', signed=True)
    if isinstance(o, str):
        b = o.encode(); assert len(b) < 32; return bytes([0xa0 | len(b)]) + b
    if isinstance(o, list): return bytes([0x90 | len(o)]) + b''.join(mp(x) for x in o)
    if isinstance(o, dict): return bytes([0x80 | len(o)]) + b''.join(mp(k) + mp(v) for k, v in o.items())
