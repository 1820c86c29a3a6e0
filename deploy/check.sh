#!/bin/sh
# The deploy check (make deploy-check; tests/test_deploy.py): Django's deployment checks, every
# warning an error, and no model change without its migration, against production settings
# (deploy/check.env, a SECRET_KEY made for this run).
#
#   deploy/check.sh [PYTHON]      # PYTHON: .venv/bin/python
#
# On a server, the same against the deployment's own environment:
#   deploy/start.sh manage check --deploy --fail-level WARNING
set -eu
cd "$(dirname "$0")/.."
python="${1:-.venv/bin/python}"

set -a
. deploy/check.env
set +a
SECRET_KEY="$("$python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export SECRET_KEY
"$python" manage.py check --deploy --fail-level WARNING
"$python" manage.py makemigrations --check --dry-run
