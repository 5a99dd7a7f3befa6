# aftershow — the commands a newcomer needs. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-postgres lint format bench messages clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The environment follows uv.lock exactly; it is rebuilt when the lock changes. Modules are
# compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on the CI machines) nothing
# caches them, and every new process (db_worker, sync_engine, the burst's PDF process) would
# compile each module it imports again: 1-3 s of CPU each.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON) --quiet
	touch $@

# The demo gets its own database, fresh each time, so it never touches real data.
demo: $(VENV)/.synced
	rm -f var/demo.sqlite3 var/demo.sqlite3-wal var/demo.sqlite3-shm
	AFTERSHOW_SQLITE_PATH=var/demo.sqlite3 $(BIN)/aftershow demo --orders 800

test: $(VENV)/.synced
	$(BIN)/pytest -q

# The suite against a throwaway PostgreSQL cluster (needs the postgresql Debian package).
test-postgres: $(VENV)/.synced
	scripts/with_postgres.sh $(BIN)/pytest -q

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy aftershow
	$(BIN)/aftershow makemigrations --check --dry-run
	$(UV) lock --check --python $(PYTHON)

format: $(VENV)/.synced
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.synced
	$(BIN)/python benchmarks/run.py

# Compiles the translations (needs GNU gettext: apt-get install gettext).
messages: $(VENV)/.synced
	cd aftershow && ../$(BIN)/aftershow makemessages -l zh_Hans --no-obsolete && ../$(BIN)/aftershow compilemessages

clean:
	rm -rf $(VENV) $(TOOLS) var
