import Foundation
import KernelCheckPlugins
import KernelCheckTestSupport

/// Small workers for the tests, written to a scratch directory: a stdlib-only Python worker
/// that computes relu correctly except on `relu shape=7`, where it shows one fault.
enum TestWorkers {
    /// The faults `faulty.py MODE` shows on `relu shape=7` (every other case is correct).
    static let faulty = #"""
        import json, os, struct, sys, time
        mode = sys.argv[1]
        inp, out = sys.stdin.buffer, sys.stdout.buffer
        def send(b):
            out.write(b); out.flush()
        inp.readline()
        if mode == "bad-handshake":
            send(b"hello, I am not JSON\n"); time.sleep(60)
        version = 2 if mode == "future-version" else 1
        send(json.dumps({"kernelcheck_protocol": version, "name": "faulty-" + mode,
                         "honours_threads": True}).encode() + b"\n")
        for line in iter(inp.readline, b""):
            h = json.loads(line)
            data = {t["role"]: inp.read(t["bytes"]) for t in h["inputs"]}
            x = struct.unpack("<%df" % (len(data["x"]) // 4), data["x"])
            if h["direction"] == "fwd":
                y = [max(v, 0.0) for v in x]
            else:
                dy = struct.unpack("<%df" % len(x), data["dy"])
                y = [g if v > 0 else 0.0 for v, g in zip(x, dy)]
            payload = struct.pack("<%df" % len(y), *y)
            status = {"id": h["id"], "status": "ok", "bytes": len(payload)}
            if h["problem"] == "relu shape=7":
                if mode == "crash":
                    os.kill(os.getpid(), 9)
                if mode == "exit":
                    sys.exit(3)
                if mode == "hang":
                    time.sleep(60)
                if mode == "garbage":
                    send(b"\x00\x01 Traceback (most recent call last): not a status\n"); continue
                if mode == "wrong-id":
                    status["id"] += 1000
                if mode == "short":
                    status["bytes"] -= 4; payload = payload[:-4]
                if mode == "truncated":
                    send(json.dumps(status).encode() + b"\n" + payload[:-4]); continue
                if mode == "extra":
                    payload += b"junk"
                if mode == "unsupported":
                    status = {"id": h["id"], "status": "unsupported", "message": "not shape 7"}; payload = b""
                if mode == "error":
                    status = {"id": h["id"], "status": "error", "message": "out of cheese"}; payload = b""
            send(json.dumps(status).encode() + b"\n" + payload)
            if mode == "exit-after" and h["problem"] == "relu shape=7":
                sys.exit(0)
        """#

    /// A scratch directory holding `faulty.py`; remove it with `TestSupport.removeScratch`.
    static func directory() throws -> URL {
        let dir = try TestSupport.makeScratchDirectory("workers")
        try faulty.write(to: dir.appendingPathComponent("faulty.py"), atomically: true, encoding: .utf8)
        return dir
    }

    /// The `exec:` command of `faulty.py MODE` in `dir` (quoted for /bin/sh).
    static func command(_ dir: URL, _ mode: String) -> String {
        "python3 '\(dir.appendingPathComponent("faulty.py").path)' \(mode)"
    }

    /// The repository's numpy skeleton worker.
    static var skeleton: String { "python3 '\(TestSupport.path("tools/worker_skeleton.py"))'" }
}
