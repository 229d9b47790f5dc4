# Shared by ./warden and .ci/run: find a JDK >= 25 and install the system packages Warden needs.
# Everything here prints to stderr, so that stdout stays the command's own (JSON with --json).

WARDEN_MIN_JAVA=25

# Prints the major version of the JDK at $1, or nothing.
warden_java_major() {
  local home=$1 v=""
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "$v" ] && [ -x "$home/bin/java" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  fi
  echo "$v"
}

# Sets JAVA_HOME to a JDK >= 25: JAVA_HOME, then the java on PATH, then /usr/lib/jvm.
warden_find_jdk() {
  local candidates=() c m
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in /usr/lib/jvm/*; do [ -d "$c" ] && candidates+=("$c"); done
  for c in "${candidates[@]}"; do
    m=$(warden_java_major "$c")
    if [ -n "$m" ] && [ "$m" -ge "$WARDEN_MIN_JAVA" ] && [ -x "$c/bin/javac" ]; then
      export JAVA_HOME=$c
      return 0
    fi
  done
  echo "warden: no JDK $WARDEN_MIN_JAVA or newer found (looked at JAVA_HOME, the java on PATH and /usr/lib/jvm)." >&2
  echo "warden: install one (for example Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}

# Installs the Debian packages named in $@ that are missing; as non-root, says what to install.
warden_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "warden: missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
  echo "warden: installing ${missing[*]} ..." >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >&2 || {
    echo "warden: could not install ${missing[*]}" >&2
    return 1
  }
}

# What running Warden needs: PostgreSQL's grammar as a library (libpg_query).
WARDEN_RUNTIME_PACKAGES=(libpg-query-dev)
# What the demo's walk-through needs on top: it prints psql commands to paste (psql is not on a fresh machine).
WARDEN_DEMO_PACKAGES=(postgresql-client)
# What the test suite needs on top: real clients (psql, the Python drivers agents use) and a real browser.
WARDEN_TEST_PACKAGES=(libpg-query-dev postgresql-client python3-psycopg python3-asyncpg python3-psycopg2 python3-sqlalchemy
  chromium chromium-driver)

# node-postgres's test installs its pinned packages with npm: Debian's nodejs and npm, unless an npm is there already
# (a Node.js from elsewhere, such as NodeSource's, brings its own npm and conflicts with Debian's).
warden_ensure_npm() {
  command -v npm >/dev/null 2>&1 && return 0
  warden_ensure_packages nodejs npm
}
