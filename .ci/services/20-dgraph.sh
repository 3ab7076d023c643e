# shellcheck shell=bash
# Dgraph v24.0.5 (zero + alpha) for the catalog/dgraph tests and the
# --catalog dgraph:// servers. Sourced by .ci/run; also usable by hand:
#
#	source .ci/services/20-dgraph.sh   # then go test ./catalog/dgraph/
#
# The server is built from the Go module proxy (DESIGN.md §4): a separate
# tools module requires github.com/dgraph-io/dgraph/v24 v24.0.5 and builds
# its dgraph command; `go install ...@v24.0.5` fails on the proxy's version
# list. The binary is cached in ~/.cache/arca-tools/dgraph-v24.0.5/dgraph
# and rebuilt only when missing (about 5 minutes).
#
# Ports, all on 127.0.0.1, chosen away from Dgraph's defaults (5080/6080,
# 7080/8080/9080) so that a developer's own Dgraph does not collide:
#	zero  grpc 15080, http 16080
#	alpha internal grpc 17080, http 18080 (health: /health), grpc 19080
# ARCA_DGRAPH_PORT_OFFSET overrides the offset 10000 added to the defaults.
#
# Exports ARCA_TEST_DGRAPH=127.0.0.1:19080 (the alpha's gRPC address),
# ARCA_DGRAPH_BIN (the binary), ARCA_DGRAPH_DIR (data and logs) and
# ARCA_DGRAPH_ZERO (zero's gRPC address, for tests that restart the alpha).

arca_dgraph_version=v24.0.5
arca_dgraph_tools="${HOME}/.cache/arca-tools"
arca_dgraph_bin="${arca_dgraph_tools}/dgraph-${arca_dgraph_version}/dgraph"

arca_dgraph_build() {
	local build="${arca_dgraph_tools}/dgraph-build"
	mkdir -p "$build" "$(dirname "$arca_dgraph_bin")"
	(
		cd "$build" || exit 1
		if [ ! -f go.mod ]; then
			printf 'module arca-tools/dgraph\n\ngo 1.24\n' >go.mod
		fi
		printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/dgraph-io/dgraph/v24/dgraph"\n' >tools.go
		# The package path, not the module: go get then records the go.sum
		# lines of every package the command needs.
		GOFLAGS=-mod=mod go get "github.com/dgraph-io/dgraph/v24/dgraph@${arca_dgraph_version}" &&
			GOFLAGS=-mod=mod go build -o "${arca_dgraph_bin}.tmp" github.com/dgraph-io/dgraph/v24/dgraph &&
			mv "${arca_dgraph_bin}.tmp" "$arca_dgraph_bin"
	)
}

arca_dgraph_start() {
	local off="${ARCA_DGRAPH_PORT_OFFSET:-10000}"
	local dir last="${TMPDIR:-/tmp}/arca-dgraph-${off}.dir"
	# A previous instance on these ports would answer the health check
	# below in place of the new one: stop it first.
	if [ -f "$last" ]; then
		local old pid
		old="$(cat "$last")"
		for pid in "$old/alpha.pid" "$old/zero.pid"; do
			# The pid is the subshell's; dgraph may be its child.
			[ -f "$pid" ] && { pkill -P "$(cat "$pid")" 2>/dev/null; kill "$(cat "$pid")" 2>/dev/null; }
		done
		sleep 2
	fi
	dir="$(mktemp -d "${TMPDIR:-/tmp}/arca-dgraph.XXXXXX")" || return 1
	echo "$dir" >"$last"
	mkdir -p "$dir/zero" "$dir/alpha"
	(cd "$dir/zero" && exec "$arca_dgraph_bin" zero --my="127.0.0.1:$((5080 + off))" \
		--port_offset "$off" --bindall=false --wal "$dir/zero/zw" \
		>"$dir/zero.log" 2>&1) &
	echo $! >"$dir/zero.pid"
	(cd "$dir/alpha" && exec "$arca_dgraph_bin" alpha --my="127.0.0.1:$((7080 + off))" \
		--zero="127.0.0.1:$((5080 + off))" --port_offset "$off" --bindall=false \
		--postings "$dir/alpha/p" --wal "$dir/alpha/w" --tmp "$dir/alpha/t" \
		--security "whitelist=127.0.0.1/8" --cache "size-mb=256" \
		>"$dir/alpha.log" 2>&1) &
	echo $! >"$dir/alpha.pid"
	local i
	for i in $(seq 1 120); do
		if curl -fsS "http://127.0.0.1:$((8080 + off))/health" 2>/dev/null | grep -q '"status":"healthy"'; then
			export ARCA_TEST_DGRAPH="127.0.0.1:$((9080 + off))"
			export ARCA_DGRAPH_ZERO="127.0.0.1:$((5080 + off))"
			export ARCA_DGRAPH_DIR="$dir"
			export ARCA_DGRAPH_BIN="$arca_dgraph_bin"
			echo "dgraph: alpha at $ARCA_TEST_DGRAPH, data and logs in $dir"
			return 0
		fi
		sleep 1
	done
	echo "dgraph: alpha did not become healthy in 120 s; logs in $dir" >&2
	tail -n 20 "$dir/zero.log" "$dir/alpha.log" >&2
	return 1
}

if [ ! -x "$arca_dgraph_bin" ]; then
	echo "dgraph: building $arca_dgraph_version from the module proxy (minutes)"
	arca_dgraph_build || { echo "dgraph: build failed" >&2; return 1 2>/dev/null || exit 1; }
fi
arca_dgraph_start || { return 1 2>/dev/null || exit 1; }
