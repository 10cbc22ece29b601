#!/usr/bin/env bash
# `npm test` runs this first (package.json "pretest"; .ci/run through npm test):
# the console's browser tests (test/console-browser.test.ts) drive Chromium
# through playwright-core, which downloads no browser. The browser is
# $CONCORDAT_CHROMIUM, by default Debian's /usr/bin/chromium; when the default
# is missing it is installed with apt-get (as root, or with passwordless sudo).
# When no browser can be had, this says how to get one and fails: the browser
# tests are never skipped.
set -uo pipefail

DEFAULT=/usr/bin/chromium
browser="${CONCORDAT_CHROMIUM:-$DEFAULT}"

if [ ! -x "$browser" ] && [ "$browser" = "$DEFAULT" ] && command -v apt-get >/dev/null 2>&1; then
  as=''
  if [ "$(id -u)" -eq 0 ]; then as='root'
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as='sudo'
  fi
  if [ -n "$as" ]; then
    echo "ensure-chromium: $DEFAULT is missing; installing Debian's chromium with apt-get" >&2
    run() { if [ "$as" = sudo ]; then sudo -n "$@"; else "$@"; fi; }
    run apt-get update -qq && run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || echo "ensure-chromium: apt-get install chromium failed" >&2
  fi
fi

if [ -x "$browser" ]; then
  "$browser" --version 2>/dev/null || echo "ensure-chromium: warning: $browser --version failed" >&2
  exit 0
fi

{
  echo "ensure-chromium: no Chromium at $browser; the console's browser tests (test/console-browser.test.ts) need one."
  if [ -n "${CONCORDAT_CHROMIUM:-}" ]; then
    echo "  CONCORDAT_CHROMIUM=$CONCORDAT_CHROMIUM is not an executable: point it at a Chromium or Chrome binary, or unset it to use $DEFAULT."
  else
    echo "  Install Debian's chromium: sudo apt-get install chromium   (as root: apt-get install chromium)"
    echo "  or point CONCORDAT_CHROMIUM at a Chromium or Chrome binary: CONCORDAT_CHROMIUM=/path/to/chromium npm test"
  fi
} >&2
exit 1
