# shellcheck shell=bash
# MinIO for the S3 resource tests (resources/s3, zones, cmd/arca scripts).
# Sourced by .ci/run; also usable by hand:
#
#	source .ci/services/30-minio.sh   # then: go test ./resources/s3/
#
# It builds the server from the Go module proxy into
# ~/.cache/arca-tools/minio-<version>/minio once (about 4 minutes), starts it
# on a free loopback port with a temporary data directory and root
# credentials, waits until it answers, and exports
#
#	ARCA_TEST_S3             endpoint, http://127.0.0.1:PORT
#	ARCA_TEST_S3_ACCESS_KEY  root user
#	ARCA_TEST_S3_SECRET_KEY  root password
#	ARCA_TEST_S3_PID         the server's process id
#	ARCA_TEST_MINIO_BIN      the server binary, for tests that start (and
#	                         kill) a server of their own
#
# The server stops when the shell that sourced this script exits.

# The version @latest resolved to when this script was written; @latest is
# the fallback if the proxy refuses it.
arca_minio_version="${ARCA_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
arca_minio_dir="$HOME/.cache/arca-tools/minio-$arca_minio_version"
arca_minio_bin="$arca_minio_dir/minio"

if [ ! -x "$arca_minio_bin" ]; then
	echo "== minio: building $arca_minio_version into $arca_minio_dir (a few minutes)"
	mkdir -p "$arca_minio_dir"
	if ! GOBIN="$arca_minio_dir" go install "github.com/minio/minio@$arca_minio_version"; then
		echo "== minio: $arca_minio_version refused; trying @latest"
		GOBIN="$arca_minio_dir" go install github.com/minio/minio@latest
	fi
fi

arca_minio_port=9000
while (exec 3<>"/dev/tcp/127.0.0.1/$arca_minio_port") 2>/dev/null; do
	arca_minio_port=$((arca_minio_port + 1))
done
arca_minio_data="$(mktemp -d "${TMPDIR:-/tmp}/arca-minio.XXXXXX")"
export ARCA_TEST_MINIO_BIN="$arca_minio_bin"
export ARCA_TEST_S3="http://127.0.0.1:$arca_minio_port"
export ARCA_TEST_S3_ACCESS_KEY="arca-test"
export ARCA_TEST_S3_SECRET_KEY="arca-test-secret-$RANDOM$RANDOM"

MINIO_ROOT_USER="$ARCA_TEST_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$ARCA_TEST_S3_SECRET_KEY" \
	MINIO_BROWSER=off MINIO_UPDATE=off \
	"$arca_minio_bin" server --quiet --address "127.0.0.1:$arca_minio_port" \
	--console-address "127.0.0.1:$((arca_minio_port + 1000))" "$arca_minio_data" \
	>"$arca_minio_data.log" 2>&1 &
export ARCA_TEST_S3_PID=$!

# Stop the server and remove its data when the sourcing shell ends ($$ is
# that shell, also inside this subshell); no trap, so that other service
# scripts keep theirs.
(
	while kill -0 $$ 2>/dev/null; do sleep 2; done
	kill "$ARCA_TEST_S3_PID" 2>/dev/null
	sleep 1
	rm -rf "$arca_minio_data" "$arca_minio_data.log"
) >/dev/null 2>&1 &
disown $! 2>/dev/null || true

arca_minio_ready=""
for _ in $(seq 1 120); do
	if curl -fsS -o /dev/null "$ARCA_TEST_S3/minio/health/live" 2>/dev/null; then
		arca_minio_ready=yes
		break
	fi
	if ! kill -0 "$ARCA_TEST_S3_PID" 2>/dev/null; then
		break
	fi
	sleep 0.5
done
if [ -z "$arca_minio_ready" ]; then
	echo "== minio: the server did not start; its log:" >&2
	cat "$arca_minio_data.log" >&2 || true
	return 1 2>/dev/null || exit 1
fi
echo "== minio: serving $ARCA_TEST_S3 (pid $ARCA_TEST_S3_PID, data $arca_minio_data)"
