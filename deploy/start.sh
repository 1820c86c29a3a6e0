#!/bin/sh
# Starts one of HVB-registret's processes: the Containerfile's ENTRYPOINT, the systemd units'
# ExecStart and what .ci/container-check runs (docs/operations.md, "The processes").
#
#   deploy/start.sh web                 # gunicorn, the site and the API (deploy/gunicorn.conf.py)
#   deploy/start.sh worker              # the background worker (notices and their mail)
#   deploy/start.sh manage COMMAND …    # any management command: migrate_all, create_ivo_user, …
#
# The environment is the configuration (.env.example). Migrations are never run here on their
# own: several processes starting at once would race over them, and an upgrade runs them once,
# on purpose, with `deploy/start.sh manage migrate_all` (docs/operations.md, "Upgrades").
set -eu

app="$(cd "$(dirname "$0")/.." && pwd)"
venv="${HVB_VENV:-/opt/hvb-registret/venv}"
cd "$app"

case "${1:-web}" in
    web)
        exec "$venv/bin/gunicorn" --config deploy/gunicorn.conf.py config.wsgi
        ;;
    worker)
        exec "$venv/bin/python" manage.py run_worker
        ;;
    manage)
        shift
        exec "$venv/bin/python" manage.py "$@"
        ;;
    *)
        echo "usage: $0 web | worker | manage COMMAND [ARGS…]" >&2
        exit 64
        ;;
esac
