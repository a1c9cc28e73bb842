#!/usr/bin/env bash
# Installs Debian's chromium, which the browser test of the HTML report
# (reports/browser_test.go) opens headless, and the Liberation fonts the
# report's plots are laid out with, unless they are there. Needs root (CI
# runs as root). Under CI (CI set) the browser test fails without chromium;
# elsewhere it is skipped.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -d /usr/share/fonts/truetype/liberation ] || need+=(fonts-liberation)
if ((${#need[@]})); then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
/usr/bin/chromium --version 2>/dev/null || true
