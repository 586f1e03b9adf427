#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a running service on the embedded defaults:
# SQLite at var/xibu.db, data in var/, a demo cohort and demo logins, http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh

export XIBU_DATABASE_URL="${XIBU_DATABASE_URL:-sqlite:///var/xibu.db}"
export XIBU_DATA_DIR="${XIBU_DATA_DIR:-var}"
HOST="${XIBU_HOST:-127.0.0.1}"
PORT="${XIBU_PORT:-8000}"
export XIBU_PUBLIC_URL="${XIBU_PUBLIC_URL:-http://$HOST:$PORT}"

.venv/bin/xibu demo
say "服务地址：$XIBU_PUBLIC_URL   （接口文档：$XIBU_PUBLIC_URL/docs）"
exec .venv/bin/xibu serve --host "$HOST" --port "$PORT"
