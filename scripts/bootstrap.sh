#!/usr/bin/env bash
# Installs what Xibu Docs needs on a Debian/Ubuntu machine, then the Python environment in .venv/.
# Idempotent and quick when everything is already there. Sourced by serve.sh and test.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Debian packages: LibreOffice (headless Writer + the UNO bridge for Debian's Python), CJK fonts,
# poppler (pdffonts/pdftotext/pdftoppm), and Chromium for the browser tests.
DEB_PACKAGES=(python3 python3-venv python3-uno libreoffice-writer-nogui libreoffice-core
  fonts-noto-cjk fonts-noto-core fonts-arphic-ukai poppler-utils)
# The test suite also checks signatures with poppler's pdfsig against our root in an NSS database,
# and drives Debian's Chromium for the browser tests (tests/e2e; Playwright never downloads a browser).
if [[ "${XIBU_WITH_TEST_TOOLS:-0}" == "1" ]]; then
  DEB_PACKAGES+=(libnss3-tools chromium zbar-tools wrk)
fi

say() { printf '\033[1m[xibu]\033[0m %s\n' "$*" >&2; }

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  say "This machine is not Debian-like (no apt-get). Install these yourself, then run this again:"
  say "  - Python >= 3.11 with venv, and LibreOffice's Python-UNO bridge for that same Python"
  say "  - LibreOffice Writer 7.x (headless), Noto CJK fonts (Noto Serif CJK SC, Noto Sans CJK SC)"
  say "  - poppler utilities (pdffonts, pdftotext, pdftoppm)"
  say "  then set XIBU_PYTHON to that Python and run again."
  [[ -n "${XIBU_PYTHON:-}" ]] || exit 1
else
  missing=()
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    SUDO=""
    if [[ $EUID -ne 0 ]]; then
      command -v sudo >/dev/null 2>&1 || { say "Run as root or install sudo; missing: ${missing[*]}"; exit 1; }
      SUDO="sudo"
    fi
    say "Installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# The venv is built from the distribution's Python: python3-uno binds to exactly that interpreter.
PY="${XIBU_PYTHON:-/usr/bin/python3}"
"$PY" - <<'PYCHECK' || { say "Python >= 3.11 is required at $PY"; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PYCHECK

EXTRAS="${XIBU_EXTRAS:-}"
STAMP=".venv/.xibu-installed"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1) extras=$EXTRAS py=$PY"
if [[ ! -x .venv/bin/python ]]; then
  say "Creating .venv with $PY"
  "$PY" -m venv .venv
fi
# Make LibreOffice's UNO bridge importable without exposing every system package to the venv.
UNO_PY="$("$PY" -c 'import uno, os; print(os.path.dirname(uno.__file__))' 2>/dev/null || true)"
if [[ -n "$UNO_PY" ]]; then
  mkdir -p .venv/uno-shim
  ln -sf "$UNO_PY/uno.py" "$UNO_PY/unohelper.py" .venv/uno-shim/
  SITE="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  printf '%s\n%s\n' "$ROOT/.venv/uno-shim" "/usr/lib/libreoffice/program" > "$SITE/xibu_uno.pth"
fi
if [[ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]]; then
  say "Installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  if [[ -n "$EXTRAS" ]]; then
    .venv/bin/python -m pip install -q -c constraints.txt -e ".[$EXTRAS]"
  else
    .venv/bin/python -m pip install -q -c constraints.txt -e .
  fi
  echo "$want" > "$STAMP"
fi
