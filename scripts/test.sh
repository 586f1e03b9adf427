#!/usr/bin/env bash
# The whole test suite: lint, types, then pytest on SQLite and, when XIBU_TEST_DATABASE_URL is set,
# again on PostgreSQL. Installs what it needs first (see bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
XIBU_EXTRAS=dev XIBU_WITH_TEST_TOOLS=1 source scripts/bootstrap.sh

say "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
say "mypy"
.venv/bin/mypy service storage signing doc_templates

PG_URL="${XIBU_TEST_DATABASE_URL:-}"
say "pytest on SQLite"
env -u XIBU_TEST_DATABASE_URL .venv/bin/python -m pytest "$@"
if [[ -n "$PG_URL" ]]; then
  say "pytest on PostgreSQL ($PG_URL)"
  XIBU_TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest "$@"
fi
