#!/bin/sh
# Installs HVB-registret from this tree into a virtualenv: what the Containerfile RUNs and what
# .ci/container-check runs as a non-root user, so CI checks exactly this recipe.
#
#   deploy/install.sh [VENV]      # VENV: $HVB_VENV, else /opt/hvb-registret/venv
#
# It installs the project (editable: the tree stays where the settings' BASE_DIR finds its
# templates and translations), compiles the translations and collects the static files for
# whitenoise. It needs no secret, no database and no network beyond the package index: nothing
# here touches the data.
set -eu

src="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-${HVB_VENV:-/opt/hvb-registret/venv}}"
python="${PYTHON:-python3.11}"
# Optional extras, e.g. HVB_EXTRAS=redis for CACHE_URL=redis://… (pyproject.toml).
extras="${HVB_EXTRAS:-}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
target="$src"
if [ -n "$extras" ]; then
    target="$src[$extras]"
fi
"$venv/bin/python" -m pip install --quiet --no-input --upgrade pip
"$venv/bin/python" -m pip install --quiet --no-input -e "$target"

cd "$src"
# The .mo files Django reads, from the committed .po files (config/translations.py).
"$venv/bin/python" -m config.translations >/dev/null
# Production's static storage (whitenoise's compressed manifest) needs DEBUG off; the fallback
# SECRET_KEY of the settings serves, as collectstatic signs nothing. Not --clear: during an upgrade
# the running workers' pages still name the old hashed files until they are replaced.
DEBUG=false "$venv/bin/python" manage.py collectstatic --noinput -v 0
