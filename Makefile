# The two commands: `make run` (set up, load Hanoi with demo data, serve with a job worker)
# and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1:8000
PROVINCE ?= 01
HOUSEHOLDS ?= 3000
PYTEST_ARGS ?=

.PHONY: run test venv lint setup messages clean

$(VENV)/.installed: pyproject.toml
	@if ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 12))' 2>/dev/null; then \
	  base=$$(scripts/find-python) || exit 1; \
	  echo "creating $(VENV) with $$base"; rm -rf $(VENV); $$base -m venv $(VENV) || exit 1; \
	fi
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

setup: venv
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py load_divisions --province $(PROVINCE)
	DEBUG=1 $(PY) manage.py load_criteria --defaults
	DEBUG=1 $(PY) manage.py load_targets --defaults
	DEBUG=1 $(PY) manage.py generate_demo --province $(PROVINCE) --households $(HOUSEHOLDS) --seed 1
	DEBUG=1 $(PY) manage.py demo_accounts --province $(PROVINCE)

# The job worker runs beside the server; Ctrl-C (or the server ending) stops both.
run: setup
	@DEBUG=1 $(PY) manage.py jobs_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver $(HOST)

test: venv
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

messages: venv
	DEBUG=1 $(PY) manage.py makemessages -l vi --no-location --ignore=.venv --ignore=staticfiles
	DEBUG=1 $(PY) manage.py compilemessages -l vi --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles db.sqlite3*
