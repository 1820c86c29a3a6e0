# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench soak clean messages deploy-check

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 krävs ($(PYTHON) saknas)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The translations Django reads, compiled from the committed .po files (config/translations.py).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard */locale/*/LC_MESSAGES/django.po))
%.mo: %.po $(STAMP)
	$(BIN)/pybabel --quiet compile --domain django --input-file $< --output-file $@

run: $(STAMP) $(MO_FILES)
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate_all
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo
	@# The background worker (notices and their mail, printed in this terminal) beside the site,
	@# stopped with it.
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py run_worker -v 0 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP) $(MO_FILES)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Production settings checked: `check --deploy` with every warning an error, and the migrations
# complete (deploy/check.sh, deploy/check.env; docs/operations.md, "Upgrades and the deploy check").
deploy-check: $(STAMP) $(MO_FILES)
	deploy/check.sh $(BIN)/python

# After changing user-facing text: the new and changed texts into every app's catalogue (needs GNU
# gettext's xgettext: apt-get install gettext), then translate them (tests/test_translations.py
# names what is missing). Only the English catalogues: access/locale/sv holds the Swedish for the
# libraries' back-office texts (django-axes, django-otp, ...), kept by hand
# (tests/test_third_party_swedish.py names what is missing).
TRANSLATED_APPS := register access portal documents api linking alerts stats
messages: $(STAMP)
	for app in $(TRANSLATED_APPS); do \
		(cd $$app && DJANGO_SETTINGS_MODULE=config.settings PYTHONPATH=.. ../$(BIN)/django-admin \
			makemessages --locale en --no-obsolete --no-location --ignore "migrations/*" -v 0) \
		|| exit 1; \
	done
	@# The extraction's timestamp only makes merge conflicts.
	sed -i '/^"POT-Creation-Date/d' */locale/*/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) db.sqlite3* accesslog.sqlite3* bench/*.sqlite3*

BENCH_DB := sqlite:///$(CURDIR)/bench/bench.sqlite3
bench: export ACCESS_LOG_DATABASE_URL = sqlite:///$(CURDIR)/bench/accesslog.sqlite3

# wrk (the load driver of bench/api_load.py) from Debian's package when missing, and PostgreSQL on
# loopback for its PostgreSQL leg (.ci/postgres, as CI).
AS_ROOT := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_INSTALL := $(AS_ROOT) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq

bench: $(STAMP)
	command -v wrk >/dev/null 2>&1 || $(APT_INSTALL) wrk >/dev/null \
		|| { $(AS_ROOT) apt-get update -qq && $(APT_INSTALL) wrk >/dev/null; }
	DATABASE_URL=$(BENCH_DB) $(BIN)/python manage.py migrate_all -v 0
	DATABASE_URL=$(BENCH_DB) $(BIN)/python manage.py seed_demo
	DATABASE_URL=$(BENCH_DB) $(BIN)/python bench/search.py
	$(BIN)/python manage.py collectstatic --noinput -v 0
	DATABASE_URL=$(BENCH_DB) $(BIN)/python bench/pages.py
	DATABASE_URL=$(BENCH_DB) $(BIN)/python bench/access_log_load.py
	DATABASE_URL=$(BENCH_DB) $(BIN)/python bench/access_log_review.py
	DATABASE_URL=$(BENCH_DB) $(BIN)/python bench/linking_quality.py
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	.ci/postgres hvb_bench
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/statistics_pages.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/alerts.py

# The soak test (bench/soak.py, docs/benchmarks.md "Soak"): 32 clients for 10 minutes while the
# worker is killed every minute and the replica restarted once; about 13 minutes in all, so not
# part of `make bench`. PostgreSQL on loopback (database hvb_soak) with the streaming replica of
# .ci/postgres-replica (cluster 15/replica on port 5433). SOAK_ARGS="--minutes 1" for a try.
SOAK_REPLICA := postgres://hvb:hvb-ci-password@127.0.0.1:5433/hvb_soak
soak: $(STAMP) $(MO_FILES)
	.ci/postgres hvb_soak
	.ci/postgres-replica hvb_soak
	DATABASE_REPLICA_URLS=$(SOAK_REPLICA) $(BIN)/python bench/soak.py $(SOAK_ARGS)
