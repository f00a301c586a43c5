"""The one error of the client: zgate's code (include/zg_errors.h, PROTOCOL.md 2.4 / 3.3 / 4.1) and reason."""

TIMEOUT = 408           # zgate did not answer in time (or a reply timed out)
BAD_GATEWAY = 502       # an answer that does not follow the protocol


class ZgateError(Exception):
    """An ERROR answer from zgate, or a local timeout (code 408)."""

    def __init__(self, code, reason):
        super().__init__(f"{code} {reason}")
        self.code = int(code)
        self.reason = reason
