#!/usr/bin/env python3
"""ipsecctl against a charon that cannot be had from Debian 12: strongSwan
6.1 built without IKEv1 (its default), played by a small VICI server of
the test's own that refuses every IKEv1 connection. The load must fail
with charon's words, the rule's file and line, the cause and the option
that fixes it, leave the daemon as it was, and succeed as IKEv2.

No root, no daemon: ike rules only, so the kernel is never touched.
Prints 'N passed, M failed' last.
"""

import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, summary  # noqa: E402
from ikelab import _decode, _encode  # noqa: E402  (the lab's own VICI encoding)
from private_file import write_private  # noqa: E402

CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN = 0, 1, 2
EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM = 3, 4, 5


class FakeCharon(threading.Thread):
    """A VICI server that keeps connections and shared secrets like charon
    and refuses load-conn for IKEv1, as a build without it does."""

    def __init__(self, path, version="6.1.0"):
        super().__init__(daemon=True)
        self.version = version
        self.conns, self.shared, self.loads = {}, set(), []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(8)

    def run(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    @staticmethod
    def _read(client, n):
        buf = b""
        while len(buf) < n:
            chunk = client.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def serve(self, client):
        try:
            while True:
                (size,) = struct.unpack(">I", self._read(client, 4))
                packet = self._read(client, size)
                kind, n = packet[0], packet[1]
                name = packet[2:2 + n].decode()
                if kind in (EVENT_REGISTER, EVENT_UNREGISTER):
                    self._send(client, bytes([EVENT_CONFIRM]))
                    continue
                reply = self.answer(name, _decode(packet[2 + n:]))
                if reply is None:
                    self._send(client, bytes([CMD_UNKNOWN]))
                else:
                    self._send(client, bytes([CMD_RESPONSE]) + _encode(reply))
        except (EOFError, OSError):
            client.close()

    @staticmethod
    def _send(client, payload):
        client.sendall(struct.pack(">I", len(payload)) + payload)

    def answer(self, command, msg):
        if command == "version":
            return {"daemon": "charon", "version": self.version, "sysname": "Linux"}
        if command == "get-conns":
            return {"conns": sorted(self.conns)}
        if command == "get-shared":
            return {"keys": sorted(self.shared)}
        if command == "load-shared":
            self.shared.add(msg.get("id", ""))
            return {"success": "yes"}
        if command == "unload-shared":
            self.shared.discard(msg.get("id", ""))
            return {"success": "yes"}
        if command == "load-conn":
            (conn, body), = msg.items()
            self.loads.append((conn, body.get("version")))
            if body.get("version") in ("1", "0"):
                return {"success": "no",
                        "errmsg": "IKEv1 is not supported by this build, config discarded"}
            self.conns[conn] = body
            return {"success": "yes"}
        if command == "unload-conn":
            self.conns.pop(msg.get("name", ""), None)
            return {"success": "yes"}
        if command in ("terminate", "initiate"):
            return {"success": "yes"}
        if command == "list-sas":
            return {}
        return None

    def close(self):
        self.server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    b = os.path.abspath(ap.parse_args().ipsecctl)
    tmp = tempfile.mkdtemp(prefix="ipsecctl-fake-charon-")
    env = dict(os.environ, IPSECCTL_STATE_DIR=os.path.join(tmp, "state"))
    sock = os.path.join(tmp, "charon.vici")
    charon = FakeCharon(sock)
    charon.start()
    try:
        conf = write_private(tmp, "hub.conf", (
            "ike passive esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.2 psk \"branch\"\n"))

        def ipsecctl(*args):
            p = subprocess.run([b, "--ike", "vici", "--vici", sock] + list(args), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            return p.returncode, p.stdout.decode(), p.stderr.decode()

        rc, out, err = ipsecctl("-f", conf)
        check("an IKEv1 rule into a charon without IKEv1: the load fails at the rule's line "
              "with charon's words",
              rc == 1 and conf + ": 1: charon refused the connection peer-192_0_2_2: IKEv1 is "
              "not supported by this build" in err, err)
        check("... and the error names the cause and the option",
              "this is strongSwan 6.1.0: from 6.1 on charon is built without IKEv1" in err and
              "--ike-version 2" in err and "ipsecctl_ike_version" in err, err)
        check("... and charon holds nothing of it (the secret sent first was taken back)",
              not charon.conns and not charon.shared, (charon.conns, charon.shared))
        rc, out, err = ipsecctl("--ike-version", "2", "-f", conf)
        check("with --ike-version 2 the same file loads, as IKEv2",
              rc == 0 and charon.loads[-1] == ("peer-192_0_2_2", "2") and
              charon.shared == {"ike-ipsecctl-peer-192_0_2_2"}, (rc, err, charon.loads))
    finally:
        charon.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
