# shellcheck shell=bash
# Installs Debian's chromium for the browser tests of the web view
# (zones/web, TestBrowser, driven by chromedp, which finds it on PATH).
# Sourced by .ci/run (no "exit" here), or run by hand:
#
#   source .ci/services/05-chromium.sh
#
# Nothing is started: each test starts its own headless browser. With
# CI=true a missing chromium fails TestBrowser; elsewhere it skips.

arca_chromium_install() {
	if command -v chromium >/dev/null 2>&1; then
		echo "chromium: $(chromium --version 2>/dev/null | head -n1)"
		return 0
	fi
	echo "chromium: installing Debian's package"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/tmp/arca-chromium-install.log 2>&1; then
		apt-get update >/dev/null 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/tmp/arca-chromium-install.log 2>&1 || {
			tail -n 20 /tmp/arca-chromium-install.log >&2
			return 1
		}
	fi
	echo "chromium: $(chromium --version 2>/dev/null | head -n1)"
}
arca_chromium_install
