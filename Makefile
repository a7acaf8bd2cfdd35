# The two commands: `make run` (demo on http://127.0.0.1:5000) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
TRANSLATIONS := supportgroup/translations
export FLASK_APP := wsgi.py

.PHONY: run test lint install install-dev translations extract-messages vendor clean-venv chromium nginx bench

run: install translations
	SUPPORTGROUP_ENV=development $(FLASK) db upgrade
	SUPPORTGROUP_ENV=development $(FLASK) seed-demo
	@echo "Demo password: $${DEMO_PASSWORD:-demo-password}"
	SUPPORTGROUP_ENV=development $(PY) serve.py

test: install-dev translations chromium nginx lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Lint, format check and type check (configuration in pyproject.toml); `make test` runs it before pytest.
# Needs the dev tools (make install-dev); RUFF and MYPY may be overridden to use tools from another environment.
RUFF ?= $(VENV)/bin/ruff
MYPY ?= $(VENV)/bin/mypy
LINT_PATHS := supportgroup tests bench tools
lint:
	$(RUFF) check $(LINT_PATHS)
	$(RUFF) format --check $(LINT_PATHS)
	$(MYPY)

# The browser tests (tests/browser) drive Debian's Chromium. Install it when missing and we can (root with
# apt-get); otherwise say so and go on: the browser tests then skip (in CI, where CI is set, they fail).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
				|| echo "Could not install Chromium: the browser tests will skip."; \
		else \
			echo "Chromium (/usr/bin/chromium) is missing: the browser tests will skip (apt-get install chromium)."; \
		fi; \
	fi

# tests/test_deploy_nginx.py runs Debian's nginx (openssl makes its certificate) in front of two gunicorn
# processes. Install them when missing and we can; otherwise that test skips (in CI it fails). The test runs
# its own nginx on free ports: a system nginx the package may start (port 80, Debian's default site) is unused.
nginx:
	@if [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/bin/openssl ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx openssl) \
				|| echo "Could not install nginx: the nginx deployment test will skip."; \
		else \
			echo "nginx (/usr/sbin/nginx) or openssl is missing: the nginx deployment test will skip (apt-get install nginx openssl)."; \
		fi; \
	fi

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

# Compile the message catalogues (.po -> .mo); the .mo files are build output, not committed.
translations: install
	@if ls $(TRANSLATIONS)/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(VENV)/bin/pybabel compile --use-fuzzy -d $(TRANSLATIONS); fi

# Refresh the catalogue template and merge it into every language (developers, after changing strings).
extract-messages: install
	$(VENV)/bin/pybabel extract --no-location -F babel.cfg -k _l -k lazy_gettext -o $(TRANSLATIONS)/messages.pot .
	$(VENV)/bin/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

# Copy the pinned browser libraries from node_modules into our static files, and axe-core (the browser tests'
# accessibility scan, tests/browser/vendor/) for the tests (needs npm; the copies are committed).
vendor:
	npm ci --no-audit --no-fund
	mkdir -p supportgroup/static/vendor/socket.io
	cp node_modules/socket.io-client/dist/socket.io.min.js node_modules/socket.io-client/LICENSE supportgroup/static/vendor/socket.io/
	mkdir -p tests/browser/vendor/axe-core
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/browser/vendor/axe-core/

clean-venv:
	rm -rf $(VENV)

# The benchmark (docs/benchmarks.md, bench/README.md): the app against a bare Flask-SocketIO server, loaded by
# Node's socket.io-client; figures into bench/results/latest.json and docs/benchmarks.md. Needs PostgreSQL
# (BENCH_DATABASE_URL, default database sg_bench on 127.0.0.1, dropped and made again, and its siblings
# sg_bench_calendar and sg_bench_accounts for the calendar page and the admin's accounts list), Redis
# (BENCH_REDIS_URL, default db 14) and Node.js. BENCH_QUICK=1 for a short smoke run (bench/results/quick.json).
bench: install-dev translations
	@[ -f node_modules/socket.io-client/package.json ] || npm ci --no-audit --no-fund
	$(PY) -m bench.run
