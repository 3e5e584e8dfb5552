#!/usr/bin/env bash
# pgkit set-up: installs what is missing and nothing else, then says what it did.
# Idempotent: on a machine that has everything it only checks (about a second).
#   bash scripts/setup.sh            # everything (system packages, pgvector, OS user, npm ci)
#   bash scripts/setup.sh --system   # only the system part (what needs root)
# Run as root (CI, containers) or as a user with sudo for the system part.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
PGVECTOR_VERSION=0.8.0
APT_PACKAGES=(
  "postgresql-${PG_MAJOR}" postgresql-contrib "postgresql-client-${PG_MAJOR}"
  pgbouncer pgbackrest
  "postgresql-${PG_MAJOR}-partman" "postgresql-${PG_MAJOR}-cron"
  # The RDS stand-in (src/local/platform.ts): the admin, not a superuser, creates the extensions RDS supports.
  "postgresql-${PG_MAJOR}-pgextwlist"
  # The stack's TLS certificate (src/local/tls.ts).
  openssl
  # The k6-script tests (test/loadtests/k6-scripts.test.ts) make k6's synchronous HTTP calls with curl.
  curl
)
# Only needed to build pgvector from Debian's source package.
BUILD_PACKAGES=("postgresql-server-dev-${PG_MAJOR}" dpkg-dev build-essential)
PG_LIBDIR="/usr/lib/postgresql/${PG_MAJOR}/lib"
PG_EXTDIR="/usr/share/postgresql/${PG_MAJOR}/extension"
OS_USER=pgkit
LOG_DIR="${PGKIT_SETUP_LOG_DIR:-.pgkit/setup-logs}"
SYSTEM_ONLY=0
[[ "${1:-}" == "--system" ]] && SYSTEM_ONLY=1

say()  { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] FAILED: %s\n' "$*" >&2; exit 1; }

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

pgvector_installed() {
  [[ -f "${PG_LIBDIR}/vector.so" && -f "${PG_EXTDIR}/vector--${PGVECTOR_VERSION}.sql" ]]
}

need_root_for() {
  if [[ $EUID -ne 0 ]]; then
    fail "$1 needs root. Run: sudo bash scripts/setup.sh --system   (then run your npm command again)"
  fi
}

# Runs a step with its output in a log file; on failure prints the step name and the log's tail.
run_step() {
  local name="$1"; shift
  mkdir -p "$LOG_DIR"
  local log="$LOG_DIR/${name}.log"
  say "$name ..."
  if ! "$@" >"$log" 2>&1; then
    printf '[setup] FAILED at step "%s". Last lines of %s:\n' "$name" "$log" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

apt_updated=0
apt_update_once() {
  if [[ $apt_updated -eq 0 ]]; then
    run_step apt-update apt-get update
    apt_updated=1
  fi
}

install_system_packages() {
  local missing
  mapfile -t missing < <(missing_packages "${APT_PACKAGES[@]}")
  if [[ ${#missing[@]} -eq 0 ]]; then return 0; fi
  need_root_for "Installing ${missing[*]}"
  apt_update_once
  say "installing: ${missing[*]}"
  # Debian's postgresql-common would create and start a cluster in /var/lib; the kit runs its own.
  mkdir -p /etc/postgresql-common
  if [[ ! -f /etc/postgresql-common/createcluster.conf ]] || ! grep -q '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
    echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
  fi
  run_step apt-install env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  # Debian starts a pgbouncer service on 6432 on install; the kit runs its own, so stop the packaged one.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now pgbouncer >/dev/null 2>&1 || true; fi
  pkill -x pgbouncer -u postgres >/dev/null 2>&1 || true
}

ensure_trixie_deb_src() {
  local f=/etc/apt/sources.list.d/pgkit-trixie-src.sources
  if [[ ! -f "$f" ]]; then
    cat >"$f" <<'SRC'
# Added by pgkit's set-up: source packages only (deb-src), to build pgvector 0.8.0 from Debian's own package.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_updated=0
  fi
}

build_pgvector() {
  pgvector_installed && return 0
  need_root_for "Building and installing pgvector ${PGVECTOR_VERSION}"
  ensure_trixie_deb_src
  local missing
  mapfile -t missing < <(missing_packages "${BUILD_PACKAGES[@]}")
  apt_update_once
  if [[ ${#missing[@]} -gt 0 ]]; then
    run_step apt-install-build-deps env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  local work
  work="$(mktemp -d /tmp/pgkit-pgvector.XXXXXX)"
  run_step pgvector-source bash -c "cd '$work' && apt-get source --download-only pgvector=${PGVECTOR_VERSION}-1 && dpkg-source -x pgvector_${PGVECTOR_VERSION}-1.dsc src"
  # OPTFLAGS='' keeps the build portable (no -march=native) so the .so runs on any x86-64 CI machine.
  run_step pgvector-build make -C "$work/src" PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" OPTFLAGS=""
  run_step pgvector-install make -C "$work/src" PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" install
  rm -rf "$work"
  pgvector_installed || fail "pgvector build finished but ${PG_LIBDIR}/vector.so is missing; see ${LOG_DIR}/pgvector-*.log"
  say "pgvector ${PGVECTOR_VERSION} installed into ${PG_LIBDIR}"
}

ensure_os_user() {
  # PostgreSQL refuses to run as root: when the kit runs as root, its servers run as this system user.
  [[ $EUID -ne 0 ]] && return 0
  id -u "$OS_USER" >/dev/null 2>&1 && return 0
  run_step os-user useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OS_USER"
  say "created system user '$OS_USER' (runs PostgreSQL and PgBouncer when the kit is run as root)"
}

ensure_node_modules() {
  local want have=""
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  [[ -f node_modules/.pgkit-lock-sha256 ]] && have="$(cat node_modules/.pgkit-lock-sha256)"
  [[ "$want" == "$have" ]] && return 0
  run_step npm-ci npm ci --no-audit --no-fund
  echo "$want" > node_modules/.pgkit-lock-sha256
}

[[ -f package-lock.json ]] || fail "package-lock.json is missing: run this from a pgkit checkout"
install_system_packages
build_pgvector
ensure_os_user
[[ $SYSTEM_ONLY -eq 1 ]] || ensure_node_modules
say "ready"
