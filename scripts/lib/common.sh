# Shared by scripts/run and scripts/test: idempotent installs of what the
# project needs on a fresh Debian machine. Sourced, not run.

MD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meterdeck-target}"
MD_VENV="${MD_VENV:-/var/tmp/meterdeck-venv}"

# Each step with the seconds since the outermost script started (scripts
# called by scripts/test count from its start): where a CI run's time goes.
: "${MD_T0:=$(date +%s)}"
export MD_T0
say() { printf '\033[1m==> [%4ds] %s\033[0m\n' "$(($(date +%s) - MD_T0))" "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt PKG...: installs the Debian packages that are missing.
ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v cargo >/dev/null 2>&1 || {
        echo "cargo not found: install the stable Rust toolchain with rustup (https://rustup.rs) and run this again" >&2
        exit 1
    }
}

# cargo-nextest runs the test command's tests (parallel across test binaries,
# a process per test); CI machines have it, a fresh machine gets it once.
ensure_nextest() {
    ensure_rust
    if ! cargo nextest --version >/dev/null 2>&1; then
        say "installing cargo-nextest (once)"
        cargo install --locked cargo-nextest
    fi
}

# step CMD...: runs a test step; a failure is recorded and the later steps
# still run (one CI run shows every failing step); finish_steps exits 1 then.
MD_FAILED_STEPS=()
step() {
    if ! "$@"; then
        MD_FAILED_STEPS+=("$*")
        say "FAILED: $*"
    fi
}
finish_steps() {
    if [ "${#MD_FAILED_STEPS[@]}" -gt 0 ]; then
        say "${#MD_FAILED_STEPS[@]} step(s) failed:"
        printf '    %s\n' "${MD_FAILED_STEPS[@]}" >&2
        exit 1
    fi
    say "every step passed"
}

# Build dependencies of the Rust workspace.
ensure_build_deps() {
    ensure_apt build-essential pkg-config libudev-dev
    # btleplug (Bluetooth LE) talks to BlueZ through libdbus.
    ensure_apt libdbus-1-dev
    ensure_rust
}

# The Python peers of the tests (pymodbus) in a venv outside the clone,
# re-created only when tests/peers/requirements.txt changes.
ensure_test_venv() {
    # libdbus-1-dev, libglib2.0-dev, pkg-config: dbus-python (for python-dbusmock) builds from source.
    ensure_apt python3 python3-venv python3-dev socat pkg-config libdbus-1-dev libglib2.0-dev
    # poppler-utils: report_pdf reads the PDF reports back (pdftotext, pdftoppm, pdfinfo).
    ensure_apt poppler-utils
    local req="$MD_ROOT/tests/peers/requirements.txt"
    local stamp="$MD_VENV/.requirements.sha256"
    local want
    want="$(sha256sum "$req" | cut -d' ' -f1)"
    if [ ! -x "$MD_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "preparing the Python test peers in $MD_VENV"
        python3 -m venv "$MD_VENV"
        "$MD_VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
        echo "$want" > "$stamp"
    fi
    export MD_PYTHON="$MD_VENV/bin/python"
}

# The desktop window: Tauri 2's system libraries and Node for the UI build.
ensure_desktop_deps() {
    ensure_apt libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
    if ! command -v npm >/dev/null 2>&1; then
        ensure_apt nodejs npm
    fi
    local major
    major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
    if [ "$major" -lt 20 ]; then
        echo "Node.js >= 20 is needed to build the UI (found $(node --version 2>/dev/null || echo none))" >&2
        exit 1
    fi
}

# Builds ui/dist (what the Tauri app loads) when its sources changed.
build_ui() {
    ensure_desktop_deps
    cd "$MD_ROOT/ui"
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        say "installing UI packages (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error
    fi
    say "building the UI"
    npm run build --silent
    cd "$MD_ROOT"
}

# scripts/package: strip, dpkg-shlibdeps (dpkg-dev), dpkg-deb, manual pages from --help
# (help2man); Tauri's bundler comes with the UI's npm packages. scripts/check-packages
# installs lintian and rpm itself.
ensure_package_deps() {
    ensure_apt binutils dpkg-dev help2man
}

# The window tests: a virtual X display and WebKitGTK's WebDriver.
ensure_window_test_deps() {
    ensure_apt xvfb xauth webkit2gtk-driver fonts-ipafont-gothic
}

# The notification tests: a private D-Bus session bus, gnome-keyring as the
# Secret Service behind the keychain, openssl for the SMTP test certificate.
ensure_notify_test_deps() {
    ensure_apt dbus-daemon dbus-bin gnome-keyring openssl
}

# The cloud tests: Mosquitto (the tests start their own, on their own ports)
# and PostgreSQL. A PostgreSQL already answering on 127.0.0.1:5432 with trust
# auth for `postgres` is used as it is; otherwise a throwaway cluster is
# started on a free port for this run and stopped when the script exits.
ensure_cloud_test_deps() {
    ensure_apt mosquitto postgresql-client
    if [ "${MD_OWN_PG:-}" != 1 ] && psql -h 127.0.0.1 -p 5432 -U postgres -w -d postgres -Atc 'select 1' >/dev/null 2>&1; then
        export MD_PG_URL="postgres://postgres@127.0.0.1:5432"
        return
    fi
    ensure_apt postgresql
    local bindir pgdir port owner
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    pgdir="$(mktemp -d /var/tmp/meterdeck-pg.XXXXXX)"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    owner="$(id -un)"
    # initdb refuses to run as root: the cluster belongs to the postgres user then.
    if [ "$(id -u)" -eq 0 ]; then owner=postgres; chown "$owner" "$pgdir"; fi
    say "starting a throwaway PostgreSQL on 127.0.0.1:$port ($pgdir)"
    as_user() { if [ "$owner" = "$(id -un)" ]; then "$@"; else runuser -u "$owner" -- "$@"; fi; }
    as_user "$bindir/initdb" -D "$pgdir/data" -A trust -U postgres >/dev/null
    as_user "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
        -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    MD_PG_STOP="as_user $bindir/pg_ctl -D $pgdir/data -m fast stop; rm -rf $pgdir"
    trap 'eval "$MD_PG_STOP" >/dev/null 2>&1 || true' EXIT
    export MD_PG_URL="postgres://postgres@127.0.0.1:$port"
}

# ensure_keychain: makes sure an OS keychain (Secret Service) answers on the
# session bus. On a desktop that is the session's own. On a box without one a
# private D-Bus session bus with gnome-keyring is started, unlocked with a
# random one-off password and kept in a temp dir: what is stored in it lives
# as long as this script. Sets MD_KEYCHAIN_STOP (run it at exit).
MD_KEYCHAIN_STOP=true
secret_service_answers() {
    [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-send >/dev/null 2>&1 &&
        timeout 10 dbus-send --session --print-reply --dest=org.freedesktop.secrets \
            /org/freedesktop/secrets org.freedesktop.DBus.Peer.Ping >/dev/null 2>&1
}
ensure_keychain() {
    if secret_service_answers; then return; fi
    ensure_apt dbus-daemon dbus-bin gnome-keyring
    local dir bus
    dir="$(mktemp -d /tmp/meterdeck-keychain.XXXXXX)"
    mkdir -p "$dir/home/.local/share" "$dir/run"
    chmod 700 "$dir/run"
    bus="$(dbus-daemon --session --fork --print-address=1 --print-pid=1)"
    export DBUS_SESSION_BUS_ADDRESS="$(sed -n 1p <<<"$bus")"
    local bus_pid keyring_pid
    bus_pid="$(sed -n 2p <<<"$bus")"
    head -c 24 /dev/urandom | base64 | HOME="$dir/home" XDG_DATA_HOME="$dir/home/.local/share" \
        XDG_CONFIG_HOME="$dir/home/.config" XDG_RUNTIME_DIR="$dir/run" \
        gnome-keyring-daemon --foreground --components=secrets --unlock >/dev/null 2>&1 &
    keyring_pid=$!
    MD_KEYCHAIN_STOP="kill $keyring_pid $bus_pid; rm -rf $dir"
    for _ in $(seq 50); do
        secret_service_answers && { say "no OS keychain in this session: using a private one for this run"; return; }
        sleep 0.2
    done
    say "could not start a keychain (gnome-keyring); the demo runs without cloud sync"
    return 1
}

# snapshot_bins DIR: copies the workspace binaries just built into DIR and
# points the end-to-end tests at them (MD_BIN_DIR). Checkouts that share a
# CARGO_TARGET_DIR overwrite each other's binaries there; a test run must
# use the ones its own checkout built.
snapshot_bins() {
    local out="$1"
    rm -rf "$out"
    mkdir -p "$out"
    local f
    for f in "$CARGO_TARGET_DIR"/debug/*; do
        if [ -f "$f" ] && [ -x "$f" ]; then cp -f "$f" "$out/"; fi
    done
    export MD_BIN_DIR="$out"
}

# The web portal's browser tests and figures (issue 15): Debian's chromium
# and its WebDriver (chromedriver); mosquitto_pub sends the test sites'
# batches as an agent would.
ensure_portal_test_deps() {
    ensure_apt chromium chromium-driver mosquitto-clients
}
