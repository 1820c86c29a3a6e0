"""Asks the running site whether it is ready: the container's HEALTHCHECK and .ci/container-check.

    python deploy/healthcheck.py [PATH]     # PATH: /readyz; exit 0 on 200, 1 otherwise

Standard library only. It asks the address gunicorn listens on (GUNICORN_BIND, the wildcard as
loopback) over plain HTTP, which SECURE_REDIRECT_EXEMPT lets through, with the first of
ALLOWED_HOSTS as the Host (Django answers 400 to any other).
"""

import http.client
import os
import sys


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/readyz"
    bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")[0]
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "[::]"):
        host = "127.0.0.1"
    allowed = [name.strip() for name in os.environ.get("ALLOWED_HOSTS", "").split(",")]
    # A leading dot allows every subdomain; "*" any name: the bare name serves for both.
    host_header = next((name.lstrip(".") for name in allowed if name and name != "*"), host)
    try:
        connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=10)
        connection.request("GET", path, headers={"Host": host_header})
        response = connection.getresponse()
        body = response.read(2000).decode("utf-8", "replace")
    except OSError as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1
    if response.status != 200:
        print(f"{path}: {response.status} {body}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
