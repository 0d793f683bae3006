#!/usr/bin/env bash
# Install the Debian packages that the real-server integration tests need.
#
#   dovecot-imapd dovecot-lmtpd  -> Dovecot IMAP/IMAPS/LMTP (tests/integration, marker "dovecot")
#   postgresql                   -> initdb/pg_ctl/postgres binaries (marker "postgres")
#   make                         -> the project's task runner
#   chromium fonts-dejavu-core   -> headless Chromium for the report tests and `kkik report --pdf`
#   systemd                      -> systemd-analyze, which checks docs/deploy/systemd's units
#                                   (tests/integration/test_deploy_files.py; not in container images)
#   nginx                        -> the reverse proxy in front of `kkik serve` workers (marker "nginx")
#
# The tests start their own throwaway servers on free loopback ports from generated
# configs in temporary directories; they never use or start the Debian system services.
# While installing, a temporary policy-rc.d stops the package scripts from starting
# services (no Dovecot on 143/993, no cluster on 5432, no nginx on 80).
#
# Behaviour:
#   * packages that are already installed (dpkg -s) are skipped; nothing to do => no apt at all
#   * root: runs apt-get directly; otherwise uses "sudo -n" when that works
#   * no way to install: prints a notice and exits 0 (the tests will skip), unless CI=true,
#     in which case it exits non-zero (CI must run the real-server tests).
set -euo pipefail

PACKAGES=(dovecot-imapd dovecot-lmtpd postgresql make chromium fonts-dejavu-core systemd nginx)
CI_MODE="${CI:-}"

fail_or_skip() {
    # $1: message
    if [[ "$CI_MODE" == "true" ]]; then
        echo "system-deps: ERROR: $1" >&2
        echo "system-deps: CI=true, so the real-server tests cannot be skipped." >&2
        exit 1
    fi
    echo "system-deps: $1" >&2
    echo "system-deps: the real-server tests (Dovecot, PostgreSQL) will be skipped." >&2
    exit 0
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    # dpkg -s also succeeds for removed-but-not-purged packages ("deinstall ok config-files"),
    # so look at the Status line. (Captured first: "dpkg | grep -q" can die of SIGPIPE.)
    info="$(dpkg -s "$pkg" 2>/dev/null || true)"
    if ! grep -qx 'Status: install ok installed' <<<"$info"; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "system-deps: all packages already installed: ${PACKAGES[*]}"
    exit 0
fi
echo "system-deps: missing packages: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
    fail_or_skip "apt-get not found (not a Debian/Ubuntu system); install these yourself: ${missing[*]}"
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        fail_or_skip "not root and passwordless sudo is not available; cannot install: ${missing[*]}"
    fi
fi

# Keep package maintainer scripts from starting system services during the install.
# Only a policy file that this script created is removed again.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
    if [[ $created_policy -eq 1 ]]; then
        "${SUDO[@]}" rm -f "$POLICY" || true
    fi
}
trap cleanup EXIT
if [[ ! -e "$POLICY" ]]; then
    if printf '#!/bin/sh\n# temporary, from kkik-harness scripts/system-deps.sh\nexit 101\n' \
        | "${SUDO[@]}" tee "$POLICY" >/dev/null && "${SUDO[@]}" chmod 755 "$POLICY"; then
        created_policy=1
    fi
fi

if ! "${SUDO[@]}" apt-get update; then
    fail_or_skip "apt-get update failed"
fi
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"; then
    fail_or_skip "apt-get install failed for: ${missing[*]}"
fi

echo "system-deps: installed: ${missing[*]}"
