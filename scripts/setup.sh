#!/usr/bin/env bash
# pgkit set-up: installs what is missing and nothing else, then says what it did.
# Idempotent: on a machine that has everything it only checks (about a second).
#   bash scripts/setup.sh            # everything (system packages, pgvector, OS user, npm ci)
#   bash scripts/setup.sh --system   # only the system part (what needs root)
#   PGKIT_PG_MAJOR=17 bash scripts/setup.sh   # also PostgreSQL 17 and its extensions, from Debian 13's
#                                             # packages into /opt/pgkit/postgresql-17 (see install_pg17 below)
# Run as root (CI, containers) or as a user with sudo for the system part.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
# The major the kit runs (src/config.ts reads the same variable): 15 from Debian 12's packages, or 17 from Debian 13's.
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
# Added by pgkit's set-up: source packages only (deb-src), to build pgvector 0.8.0 for PostgreSQL 15 from
# Debian's own source package.
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

# PostgreSQL 17 (PGKIT_PG_MAJOR=17): Debian 12 has no packages for it; Debian 13 ("trixie") has them. Their
# source packages are not served by the archive this kit's machines reach (HTTP 404 for postgresql-17, pg-cron
# and pgbackrest sources, 2026-12-06), but trixie's binary packages are. So set-up takes trixie's own .debs:
#   1. a private apt (its own lists, cache and empty dpkg status, under $PG17_APT; the machine's apt and dpkg are
#      not touched) resolves and downloads postgresql-17 and the extensions with their whole dependency closure,
#      signature-checked against Debian's archive keyring;
#   2. dpkg-deb -x unpacks them into one kit-owned prefix (no maintainer scripts run: no cluster, no service);
#   3. patchelf points each program at trixie's own loader and libraries inside the prefix (DT_RPATH, which
#      also covers the extensions' libraries that postgres dlopens), so Debian 12's glibc is never mixed in.
# PostgreSQL finds its share and lib folders relative to its own binary, so the relocated tree works as is.
# pgBackRest comes along because Debian 12's 2.45 does not support PostgreSQL 17 (2.55 does). Installed once
# per machine: a stamp keyed by the recipe makes a repeat run a check of a second.
PG17_PREFIX="${PGKIT_PG17_PREFIX:-/opt/pgkit/postgresql-17}"   # src/config.ts PG17_PREFIX
PG17_APT="${PG17_PREFIX}.apt"
# Package and the upstream series wanted (whatever point release trixie serves within the series is taken and
# recorded in the stamp; a series change is a recipe change and reinstalls).
PG17_PACKAGES=("postgresql-17:17." "postgresql-17-partman:5.2." "postgresql-17-cron:1.6." "pgbackrest:2.55."
  "postgresql-17-pgvector:${PGVECTOR_VERSION}" "postgresql-17-pgextwlist:1.19")
PG17_RECIPE="pgkit-pg17-recipe-2 trixie-binaries ${PG17_PACKAGES[*]}"
PG17_BIN="usr/lib/postgresql/17/bin"   # inside the prefix; src/config.ts pgInstall(17)

pg17_installed() {
  [[ -f "$PG17_PREFIX/.pgkit-stamp" ]] && [[ "$(head -n1 "$PG17_PREFIX/.pgkit-stamp")" == "$PG17_RECIPE" ]] \
    && [[ -x "$PG17_PREFIX/$PG17_BIN/postgres" && -x "$PG17_PREFIX/usr/bin/pgbackrest" ]]
}

pg17_apt() {
  apt-get -o Dir::Etc="$PG17_APT/etc" -o Dir::Etc::SourceParts="$PG17_APT/etc/sources.list.d" \
    -o Dir::Etc::Preferences="$PG17_APT/etc/preferences" -o Dir::Etc::PreferencesParts="$PG17_APT/etc/preferences.d" \
    -o Dir::State="$PG17_APT/state" -o Dir::State::status="$PG17_APT/status" -o Dir::Cache="$PG17_APT/cache" \
    -o APT::Architecture=amd64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

install_pg17() {
  if pg17_installed; then
    say "PostgreSQL 17 is in $PG17_PREFIX ($(sed -n 2p "$PG17_PREFIX/.pgkit-stamp"))"
    return 0
  fi
  need_root_for "Installing PostgreSQL 17 into $PG17_PREFIX"
  [[ "$(dpkg --print-architecture)" == amd64 ]] || fail "PostgreSQL 17 from trixie's packages is set up for amd64 only (this machine: $(dpkg --print-architecture))"
  local t0=$SECONDS
  say "PostgreSQL 17 is not installed yet: installing trixie's packages into $PG17_PREFIX (about a minute; once per machine)"
  local missing
  mapfile -t missing < <(missing_packages patchelf file debian-archive-keyring)
  if [[ ${#missing[@]} -gt 0 ]]; then
    apt_update_once
    run_step pg17-tools env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
  fi
  rm -rf "$PG17_APT" "$PG17_PREFIX.new"
  mkdir -p "$PG17_APT"/{etc/sources.list.d,etc/preferences.d,state/lists/partial,cache/archives/partial}
  : >"$PG17_APT/status"
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' >"$PG17_APT/etc/sources.list"
  run_step pg17-apt-update pg17_apt update
  local entry pkgs=()
  for entry in "${PG17_PACKAGES[@]}"; do pkgs+=("${entry%%:*}"); done
  run_step pg17-download pg17_apt install -y --download-only --no-install-recommends "${pkgs[@]}"
  local pkg series deb ver got=()
  for entry in "${PG17_PACKAGES[@]}"; do
    pkg="${entry%%:*}"; series="${entry#*:}"
    deb="$(ls "$PG17_APT"/cache/archives/"${pkg}"_*.deb 2>/dev/null | head -n1)"
    [[ -n "$deb" ]] || fail "trixie's apt did not download $pkg (log: $LOG_DIR/pg17-download.log)"
    ver="$(dpkg-deb -f "$deb" Version)"
    [[ "$ver" == "$series"* ]] || fail "trixie serves $pkg $ver; this set-up installs the $series series (edit PG17_PACKAGES in scripts/setup.sh)"
    got+=("$pkg=$ver")
  done
  local new="$PG17_PREFIX.new" P="$PG17_PREFIX"
  mkdir -p "$new"
  run_step pg17-unpack bash -c 'for d in "$1"/cache/archives/*.deb; do dpkg-deb -x "$d" "$2"; done' _ "$PG17_APT" "$new"
  # The loader and library folders as they will be once the tree is in place at $P.
  local loader="$P/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
  local rpath="$P/usr/lib/x86_64-linux-gnu:$P/usr/lib/postgresql/17/lib"
  [[ -e "$new/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ]] || fail "trixie's loader is missing from the unpacked packages (libc6 not downloaded?): see $LOG_DIR/pg17-download.log"
  run_step pg17-patchelf bash -c '
    for f in "$1"/'"$PG17_BIN"'/* "$1"/usr/bin/pgbackrest; do
      file -b "$f" | grep -q "^ELF .*executable\|^ELF .*pie executable" || continue
      patchelf --set-interpreter "$2" --force-rpath --set-rpath "$3" "$f"
    done' _ "$new" "$loader" "$rpath"
  rm -rf "$P"
  mv "$new" "$P"
  local v
  v="$("$P/$PG17_BIN/postgres" --version 2>&1)" || fail "the installed PostgreSQL 17 does not run: $v"
  "$P/usr/bin/pgbackrest" version >/dev/null 2>&1 || fail "the installed pgBackRest does not run: $("$P/usr/bin/pgbackrest" version 2>&1 | head -n 3)"
  [[ -f "$P/usr/lib/postgresql/17/lib/pg_partman_bgw.so" && -f "$P/usr/lib/postgresql/17/lib/pg_cron.so" && -f "$P/usr/lib/postgresql/17/lib/vector.so" && -f "$P/usr/lib/postgresql/17/lib/pgextwlist.so" ]] \
    || fail "PostgreSQL 17 was unpacked but an extension is missing under $P/usr/lib/postgresql/17/lib; see ${LOG_DIR}/pg17-*.log"
  rm -rf "$PG17_APT"
  printf '%s\n%s\n' "$PG17_RECIPE" "${got[*]}" > "$P/.pgkit-stamp"
  say "PostgreSQL 17 installed into $P in $(( SECONDS - t0 )) s ($(du -sh "$P" | cut -f1)): ${got[*]}"
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
[[ "$WANT_MAJOR" == 17 ]] && install_pg17
ensure_os_user
[[ $SYSTEM_ONLY -eq 1 ]] || ensure_node_modules
say "ready"
