# Shared by scripts/run and scripts/test: idempotent installs of what the
# project needs on a fresh Debian machine. Sourced, not run.

MD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meterdeck-target}"
MD_VENV="${MD_VENV:-/var/tmp/meterdeck-venv}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

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

# Build dependencies of the Rust workspace.
ensure_build_deps() {
    ensure_apt build-essential pkg-config libudev-dev
    ensure_rust
}

# The Python peers of the tests (pymodbus) in a venv outside the clone,
# re-created only when tests/peers/requirements.txt changes.
ensure_test_venv() {
    # libdbus-1-dev, libglib2.0-dev, pkg-config: dbus-python (for python-dbusmock) builds from source.
    ensure_apt python3 python3-venv python3-dev socat pkg-config libdbus-1-dev libglib2.0-dev
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

# The window tests: a virtual X display and WebKitGTK's WebDriver.
ensure_window_test_deps() {
    ensure_apt xvfb xauth webkit2gtk-driver fonts-ipafont-gothic
}

# The notification tests: a private D-Bus session bus, gnome-keyring as the
# Secret Service behind the keychain, openssl for the SMTP test certificate.
ensure_notify_test_deps() {
    ensure_apt dbus-daemon dbus-bin gnome-keyring openssl
}
