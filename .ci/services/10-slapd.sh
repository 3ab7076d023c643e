# shellcheck shell=bash
# Starts an OpenLDAP slapd of Arca's own on loopback, with a test directory,
# for the LDAP login tests. Sourced by .ci/run (so no "exit" here: a failure
# returns non-zero, which stops a "set -e" caller), or run by hand:
#
#   source .ci/services/10-slapd.sh     # starts (or restarts) it and exports
#   source "${TMPDIR:-/tmp}/arca-slapd-$(id -u)/env"   # the exports, later
#
# It installs Debian's slapd and ldap-utils when they are missing, without
# letting the package start or keep a slapd of its own, then runs slapd as a
# plain process from a state directory it regenerates on every run:
#   ldap://127.0.0.1:$ARCA_LDAP_PORT   (StartTLS; default port 3389)
#   ldaps://127.0.0.1:$ARCA_LDAPS_PORT (default 3636)
# with a CA and server certificate made by openssl, and the directory
# dc=arca,dc=test: ou=people (alice, bob, carol, dave, rods), ou=groups
# (groupOfNames and posixGroup) and ou=services (the service account).
#
# Exports: ARCA_TEST_LDAP_URL (ldap://, StartTLS), ARCA_TEST_LDAPS_URL,
# ARCA_TEST_LDAP_BASE, ARCA_TEST_LDAP_PEOPLE, ARCA_TEST_LDAP_GROUPS,
# ARCA_TEST_LDAP_CA, ARCA_TEST_LDAP_BIND_DN, ARCA_TEST_LDAP_BIND_PASSWORD_FILE,
# ARCA_TEST_LDAP_ADMIN_DN, ARCA_TEST_LDAP_ADMIN_PASSWORD_FILE (the rootdn, for
# tests that change the directory), ARCA_TEST_LDAP_PASSWORDS (user=password
# pairs the tests log in with).

arca_slapd_start() {
	local state="${ARCA_LDAP_DIR:-${TMPDIR:-/tmp}/arca-slapd-$(id -u)}"
	local port="${ARCA_LDAP_PORT:-3389}" sport="${ARCA_LDAPS_PORT:-3636}"
	local base="dc=arca,dc=test"
	local slapd=/usr/sbin/slapd slaptest=/usr/sbin/slaptest

	if [ ! -x "$slapd" ] || ! command -v ldapsearch >/dev/null || ! command -v openssl >/dev/null; then
		arca_slapd_install || return 1
	fi

	# A slapd left by an earlier run of this script (its pid file is in our
	# state directory) is stopped; nothing else is touched.
	if [ -s "$state/slapd.pid" ]; then
		local old
		old=$(cat "$state/slapd.pid")
		if [ -n "$old" ] && [ "$(cat "/proc/$old/comm" 2>/dev/null)" = slapd ]; then
			echo "10-slapd: stopping the slapd of an earlier run (pid $old)"
			kill "$old" 2>/dev/null || true
			local i
			for i in $(seq 50); do [ -e "/proc/$old" ] || break; sleep 0.1; done
		fi
	fi
	rm -rf "$state"
	mkdir -p "$state/db" "$state/tls"
	chmod 700 "$state"

	# TLS: a CA and a server certificate for 127.0.0.1 and localhost.
	(
		cd "$state/tls" &&
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Arca test LDAP CA" \
			-keyout ca-key.pem -out ca.pem 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
			-keyout server-key.pem -out server.csr 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' >ext.cnf &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
			-extfile ext.cnf -out server.pem 2>/dev/null &&
		chmod 600 ca-key.pem server-key.pem
	) || { echo "10-slapd: making the TLS certificates failed" >&2; return 1; }

	local svcpw rootpw
	svcpw=$(openssl rand -hex 16)
	rootpw=$(openssl rand -hex 16)
	printf '%s' "$svcpw" >"$state/bind-password"
	printf '%s' "$rootpw" >"$state/admin-password"
	chmod 600 "$state/bind-password" "$state/admin-password"

	cat >"$state/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $state/slapd.pid
argsfile $state/slapd.args
TLSCACertificateFile $state/tls/ca.pem
TLSCertificateFile $state/tls/server.pem
TLSCertificateKeyFile $state/tls/server-key.pem
# TLS 1.2 or newer (3.3 is TLS 1.2)
TLSProtocolMin 3.3
TLSCipherSuite NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2

database mdb
maxsize 67108864
suffix "$base"
rootdn "cn=admin,$base"
rootpw $(/usr/sbin/slappasswd -s "$rootpw")
directory $state/db
index objectClass eq
index uid,cn,memberUid,member eq
access to attrs=userPassword
	by self write
	by anonymous auth
	by * none
access to *
	by * read
CONF
	# The test directory. Passwords are hashed by slappasswd ({SSHA}).
	local pw_alice=alice-secret pw_bob=bob-secret pw_carol=carol-secret pw_dave=dave-secret pw_rods=ldap-rods-secret
	{
		cat <<LDIF
dn: $base
objectClass: dcObject
objectClass: organization
o: Arca test
dc: arca

dn: ou=people,$base
objectClass: organizationalUnit
ou: people

dn: ou=groups,$base
objectClass: organizationalUnit
ou: groups

dn: ou=services,$base
objectClass: organizationalUnit
ou: services

dn: cn=arca-service,ou=services,$base
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: arca-service
userPassword: $(/usr/sbin/slappasswd -s "$svcpw")

LDIF
		local n=1000 u pwvar
		for u in alice bob carol dave rods; do
			n=$((n + 1))
			pwvar="pw_$u"
			cat <<LDIF
dn: uid=$u,ou=people,$base
objectClass: inetOrgPerson
objectClass: posixAccount
uid: $u
cn: $u
sn: $u
uidNumber: $n
gidNumber: $n
homeDirectory: /home/$u
userPassword: $(/usr/sbin/slappasswd -s "${!pwvar}")

LDIF
		done
		cat <<LDIF
dn: cn=lab,ou=groups,$base
objectClass: groupOfNames
cn: lab
member: uid=alice,ou=people,$base
member: uid=bob,ou=people,$base

dn: cn=physics,ou=groups,$base
objectClass: posixGroup
cn: physics
gidNumber: 2001
memberUid: alice
memberUid: carol

dn: cn=staff members,ou=groups,$base
objectClass: groupOfNames
cn: staff members
member: uid=alice,ou=people,$base

LDIF
	} >"$state/directory.ldif"
	# The directory is loaded offline, then checked, then served.
	/usr/sbin/slapadd -q -f "$state/slapd.conf" -l "$state/directory.ldif" >/dev/null ||
		{ echo "10-slapd: slapadd refused $state/directory.ldif" >&2; return 1; }
	"$slaptest" -Q -f "$state/slapd.conf" ||
		{ echo "10-slapd: slaptest refused $state/slapd.conf" >&2; return 1; }
	"$slapd" -f "$state/slapd.conf" -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$sport/" ||
		{ echo "10-slapd: slapd did not start (is port $port or $sport taken?)" >&2; return 1; }

	local i ok=
	for i in $(seq 100); do
		if LDAPTLS_CACERT="$state/tls/ca.pem" LDAPTLS_REQCERT=demand ldapsearch -x -H "ldap://127.0.0.1:$port" -ZZ -b "uid=alice,ou=people,$base" -s base uid >/dev/null 2>&1; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[ -n "$ok" ] || { echo "10-slapd: slapd does not answer on ldap://127.0.0.1:$port" >&2; return 1; }

	cat >"$state/env" <<ENV
export ARCA_TEST_LDAP_URL=ldap://127.0.0.1:$port
export ARCA_TEST_LDAPS_URL=ldaps://127.0.0.1:$sport
export ARCA_TEST_LDAP_BASE=$base
export ARCA_TEST_LDAP_PEOPLE=ou=people,$base
export ARCA_TEST_LDAP_GROUPS=ou=groups,$base
export ARCA_TEST_LDAP_CA=$state/tls/ca.pem
export ARCA_TEST_LDAP_BIND_DN=cn=arca-service,ou=services,$base
export ARCA_TEST_LDAP_BIND_PASSWORD_FILE=$state/bind-password
export ARCA_TEST_LDAP_ADMIN_DN=cn=admin,$base
export ARCA_TEST_LDAP_ADMIN_PASSWORD_FILE=$state/admin-password
export ARCA_TEST_LDAP_PASSWORDS='alice=$pw_alice bob=$pw_bob carol=$pw_carol dave=$pw_dave rods=$pw_rods'
ENV
	# shellcheck source=/dev/null
	source "$state/env"
	echo "10-slapd: slapd (pid $(cat "$state/slapd.pid")) serves $ARCA_TEST_LDAP_URL and $ARCA_TEST_LDAPS_URL; exports in $state/env"
}

# arca_slapd_install installs slapd and ldap-utils from Debian without a
# prompt and without the package's own slapd service running afterwards.
arca_slapd_install() {
	local sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "10-slapd: installing slapd and ldap-utils"
	# policy-rc.d exit 101 tells the package scripts not to start services.
	local policy=/usr/sbin/policy-rc.d made_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && made_policy=1
	fi
	local rc=0
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slapd ldap-utils openssl >/dev/null ||
		{ $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slapd ldap-utils openssl >/dev/null; } || rc=$?
	[ -z "$made_policy" ] || $sudo rm -f "$policy"
	if [ "$rc" != 0 ]; then
		echo "10-slapd: apt-get install slapd ldap-utils failed" >&2
		return 1
	fi
	# Keep the package's service from starting at boot; ours runs instead.
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		$sudo systemctl disable --now slapd >/dev/null 2>&1 || true
	elif command -v update-rc.d >/dev/null; then
		$sudo update-rc.d slapd disable >/dev/null 2>&1 || true
	fi
}

arca_slapd_start
