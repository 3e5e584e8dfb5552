#!/usr/bin/env bash
# pgkit set-up: installs what is missing and nothing else, then says what it did.
# Idempotent: on a machine that has everything it only checks (about a second).
#   bash scripts/setup.sh            # everything (system packages, pgvector, OS user, npm ci)
#   bash scripts/setup.sh --system   # only the system part (what needs root)
#   PGKIT_PG_MAJOR=17 bash scripts/setup.sh   # also PostgreSQL 17 and its extensions, built once into
#                                             # /opt/pgkit/postgresql-17 (see build_pg17 below)
# Run as root (CI, containers) or as a user with sudo for the system part.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
# The major the kit runs (src/config.ts reads the same variable): 15 from Debian 12's packages, or 17 built here.
WANT_MAJOR="${PGKIT_PG_MAJOR:-15}"
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
    run_step apt-update apt-get -o DPkg::Lock::Timeout=600 update
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
  run_step apt-install env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
  # Debian starts a pgbouncer service on 6432 on install; the kit runs its own, so stop the packaged one.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now pgbouncer >/dev/null 2>&1 || true; fi
  pkill -x pgbouncer -u postgres >/dev/null 2>&1 || true
}

ensure_trixie_deb_src() {
  local f=/etc/apt/sources.list.d/pgkit-trixie-src.sources
  if [[ ! -f "$f" ]]; then
    cat >"$f" <<'SRC'
# Added by pgkit's set-up: source packages only (deb-src), to build pgvector 0.8.0 (and, when asked,
# PostgreSQL 17 with its extensions) from Debian's own packages.
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
    run_step apt-install-build-deps env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
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

# PostgreSQL 17 (PGKIT_PG_MAJOR=17): Debian 12 has no packages for it, and trixie's .deb packaging
# build-depends on trixie-only packages, so the upstream sources inside trixie's source packages are built the
# plain upstream way (configure/make, PGXS, meson) into one kit-owned prefix. Built once per machine: a stamp
# keyed by the recipe and the versions makes a repeat run a check of a second. pgBackRest comes along because
# Debian 12's 2.45 does not support PostgreSQL 17 (2.55 does).
PG17_PREFIX="${PGKIT_PG17_PREFIX:-/opt/pgkit/postgresql-17}"   # src/config.ts PG17_PREFIX
# Upstream series wanted from trixie (whatever point release trixie serves within the series is taken and
# recorded in the stamp; a series change is a recipe change and rebuilds).
PG17_SOURCES=("postgresql-17:17." "pg-partman:5.2." "pg-cron:1.6." "pgbackrest:2.55." "pgvector:${PGVECTOR_VERSION}" "pgextwlist:1.19")
PG17_RECIPE="pgkit-pg17-recipe-1 ${PG17_SOURCES[*]}"
PG17_BUILD_PACKAGES=(build-essential dpkg-dev bison flex pkgconf libreadline-dev zlib1g-dev libssl-dev libicu-dev
  liblz4-dev libzstd-dev
  # pgBackRest (meson/ninja; libpq for its own client side)
  meson ninja-build libpq-dev libxml2-dev libyaml-dev libbz2-dev libssh2-1-dev)

pg17_installed() {
  [[ -f "$PG17_PREFIX/.pgkit-stamp" ]] && [[ "$(head -n1 "$PG17_PREFIX/.pgkit-stamp")" == "$PG17_RECIPE" ]] \
    && [[ -x "$PG17_PREFIX/bin/postgres" && -x "$PG17_PREFIX/bin/pgbackrest" ]]
}

build_pg17() {
  if pg17_installed; then
    say "PostgreSQL 17 is in $PG17_PREFIX ($(sed -n 2p "$PG17_PREFIX/.pgkit-stamp"))"
    return 0
  fi
  need_root_for "Building PostgreSQL 17 into $PG17_PREFIX"
  local t0=$SECONDS
  say "PostgreSQL 17 is not built yet: building it and its extensions into $PG17_PREFIX (about 15-25 minutes on 2 cores; once per machine)"
  ensure_trixie_deb_src
  apt_update_once
  local missing
  mapfile -t missing < <(missing_packages "${PG17_BUILD_PACKAGES[@]}")
  if [[ ${#missing[@]} -gt 0 ]]; then
    run_step pg17-build-deps env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
  fi
  local work
  work="$(mktemp -d /var/tmp/pgkit-pg17.XXXXXX)"
  mkdir -p "$LOG_DIR"
  local entry pkg series dsc ver built=()
  for entry in "${PG17_SOURCES[@]}"; do
    pkg="${entry%%:*}"; series="${entry#*:}"
    if ! (cd "$work" && apt-get source --download-only "$pkg") >"$LOG_DIR/pg17-source-$pkg.log" 2>&1; then
      tail -n 8 "$LOG_DIR/pg17-source-$pkg.log" >&2; rm -rf "$work"
      fail "Debian's archive did not serve trixie's source package $pkg (log: $LOG_DIR/pg17-source-$pkg.log), so PostgreSQL 17 cannot be built on this machine. Nothing was installed; PGKIT_PG_MAJOR=15 (the default) still works."
    fi
    dsc="$(ls "$work"/"${pkg}"_*.dsc | head -n1)"
    ver="$(basename "$dsc" .dsc)"; ver="${ver#${pkg}_}"; ver="${ver%%-*}"
    [[ "$ver" == "$series"* ]] || fail "trixie serves $pkg $ver; this set-up builds the $series series (edit PG17_SOURCES in scripts/setup.sh)"
    run_step "pg17-unpack-$pkg" dpkg-source -x "$dsc" "$work/$pkg"
    built+=("$pkg=$ver")
  done
  local P="$PG17_PREFIX" make_j=(nice make -j2)
  rm -rf "$P"
  # --with-system-tzdata: Debian's zoneinfo, like its packages. OPTFLAGS='' for PGXS modules (no -march=native).
  run_step pg17-configure bash -c "cd '$work/postgresql-17' && ./configure --prefix='$P' --with-openssl --with-icu --with-lz4 --with-zstd --with-system-tzdata=/usr/share/zoneinfo"
  run_step pg17-make "${make_j[@]}" -C "$work/postgresql-17"
  run_step pg17-make-contrib "${make_j[@]}" -C "$work/postgresql-17/contrib"
  run_step pg17-install make -C "$work/postgresql-17" install
  run_step pg17-install-contrib make -C "$work/postgresql-17/contrib" install
  for pkg in pg-partman pg-cron pgvector pgextwlist; do
    run_step "pg17-make-$pkg" "${make_j[@]}" -C "$work/$pkg" USE_PGXS=1 PG_CONFIG="$P/bin/pg_config" OPTFLAGS=""
    run_step "pg17-install-$pkg" make -C "$work/$pkg" USE_PGXS=1 PG_CONFIG="$P/bin/pg_config" install
  done
  run_step pg17-pgbackrest-setup meson setup --prefix="$P" --buildtype=release "$work/pgbackrest-build" "$work/pgbackrest"
  run_step pg17-pgbackrest-make nice ninja -j2 -C "$work/pgbackrest-build"
  run_step pg17-pgbackrest-install ninja -C "$work/pgbackrest-build" install
  rm -rf "$work"
  [[ -x "$P/bin/postgres" && -f "$P/lib/pg_partman_bgw.so" && -f "$P/lib/pg_cron.so" && -f "$P/lib/vector.so" && -f "$P/lib/pgextwlist.so" && -x "$P/bin/pgbackrest" ]] \
    || fail "the PostgreSQL 17 build finished but something is missing under $P; see ${LOG_DIR}/pg17-*.log"
  printf '%s\n%s\n' "$PG17_RECIPE" "${built[*]}" > "$P/.pgkit-stamp"
  say "PostgreSQL 17 built into $P in $(( (SECONDS - t0) / 60 )) min $(( (SECONDS - t0) % 60 )) s: ${built[*]}"
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

# What the PostgreSQL 17 stamp's first line must say (test/scripts/setup.test.ts).
[[ "${1:-}" == "--print-pg17-recipe" ]] && { echo "$PG17_RECIPE"; exit 0; }
[[ -f package-lock.json ]] || fail "package-lock.json is missing: run this from a pgkit checkout"
case "$WANT_MAJOR" in
  15|17) ;;
  *) fail "PGKIT_PG_MAJOR=$WANT_MAJOR is not a tested target: use 15 (the default) or 17" ;;
esac
install_system_packages
build_pgvector
[[ "$WANT_MAJOR" == 17 ]] && build_pg17
ensure_os_user
[[ $SYSTEM_ONLY -eq 1 ]] || ensure_node_modules
say "ready"
