# shellcheck shell=bash
# Installs the WebDAV clients the tests of zones/httpapi drive: Debian's
# rclone (its webdav backend lists, copies both ways and checks a tree) and
# cadaver (an interactive client, driven as a person would).
# Sourced by .ci/run (no "exit" here), or run by hand:
#
#   source .ci/services/06-clients.sh
#
# Nothing is started. With CI=true a missing client fails its test;
# elsewhere it skips, naming this script.

arca_clients_install() {
	local missing=()
	command -v rclone >/dev/null 2>&1 || missing+=(rclone)
	command -v cadaver >/dev/null 2>&1 || missing+=(cadaver)
	if [ ${#missing[@]} -gt 0 ]; then
		echo "clients: installing Debian's ${missing[*]}"
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/arca-clients-install.log 2>&1; then
			apt-get update >/dev/null 2>&1 || true
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/arca-clients-install.log 2>&1 || {
				tail -n 20 /tmp/arca-clients-install.log >&2
				return 1
			}
		fi
	fi
	echo "clients: $(rclone version 2>/dev/null | head -n1); cadaver $(command -v cadaver >/dev/null && echo present)"
}
arca_clients_install
