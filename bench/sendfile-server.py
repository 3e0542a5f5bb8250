"""Serves one file at every path with sendfile(2), the way nginx does: the reference
for a zero-copy loopback send. Prints "port=N" once listening.
    python3 bench/sendfile-server.py <file>"""
import os, socket, sys, threading

path = sys.argv[1]
size = os.path.getsize(path)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(f"port={srv.getsockname()[1]}", flush=True)

def serve(conn):
    with conn:
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
        with open(path, "rb") as f:
            conn.sendfile(f)

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
