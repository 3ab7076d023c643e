#!/usr/bin/env bash
# Checks that the committed protobuf code in api/arcapb is exactly what the
# go:generate line in api/generate.go makes from api/arca/v1/*.proto, with the
# tools named in the generated files' headers:
#   protoc              Debian's protobuf-compiler (3.21.12 in bookworm)
#   protoc-gen-go       google.golang.org/protobuf/cmd/protoc-gen-go v1.36.12
#   protoc-gen-go-grpc  google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2
# It regenerates into a temporary copy of api/ (never touching the work tree)
# and exits 1, printing the diff, when the code differs, or when a file is
# committed that nothing generates or generated that is not committed.
#
# Run by .ci/run; by hand: bash .ci/protoc-check.sh
# To regenerate the committed code: install the same tools, then
#   (cd api && go generate .)
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

# protoc from Debian; libprotobuf-dev (only recommended by protobuf-compiler)
# ships the well-known types, such as google/protobuf/any.proto, that
# api/google/rpc/status.proto imports.
if ! command -v protoc >/dev/null || [ ! -e /usr/include/google/protobuf/any.proto ]; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "protoc-check: installing Debian's protobuf-compiler"
	pkgs=(protobuf-compiler libprotobuf-dev)
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null ||
		{ $sudo apt-get update -q >/dev/null &&
			$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null; } || true
	if ! command -v protoc >/dev/null || [ ! -e /usr/include/google/protobuf/any.proto ]; then
		echo "protoc-check: apt-get install ${pkgs[*]} failed" >&2
		exit 1
	fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The plugins, at the pinned versions, into a temporary GOBIN.
GOBIN="$tmp/bin" go install "$PROTOC_GEN_GO"
GOBIN="$tmp/bin" go install "$PROTOC_GEN_GO_GRPC"

# A copy of the module's api/ without the generated code, and the go:generate
# line run in it as it would be in the work tree.
mkdir "$tmp/src"
cp go.mod go.sum "$tmp/src/"
cp -R api "$tmp/src/api"
rm -f "$tmp/src/api/arcapb/"*.pb.go
(cd "$tmp/src/api" && PATH="$tmp/bin:$PATH" go generate .)

committed=api/arcapb
generated="$tmp/src/api/arcapb"
echo "protoc-check: $(protoc --version), $("$tmp/bin/protoc-gen-go" --version), $("$tmp/bin/protoc-gen-go-grpc" --version)"
if diff -ru "$committed" "$generated" >"$tmp/diff"; then
	echo "protoc-check: api/arcapb is what protoc generates"
	exit 0
fi

# The generated files name the protoc that made them in their headers
# ("// 	protoc        v3.21.12", "// - protoc             v3.21.12"). Today
# Debian's protoc is the one the committed code names, and the comparison
# above is exact. Should Debian's protoc move on while the code it generates
# stays the same, those version lines alone may differ: then, and only then,
# the comparison is made again with those lines (and no others) ignored.
protoc_lines() { grep -rhE '^// (	|- )protoc +[^ ]+$' "$1" | sort -u; }
if [ "$(protoc_lines "$committed")" != "$(protoc_lines "$generated")" ]; then
	for d in committed generated; do
		mkdir "$tmp/norm-$d"
		src="$committed"
		[ "$d" = committed ] || src="$generated"
		cp -R "$src/." "$tmp/norm-$d/"
		find "$tmp/norm-$d" -type f -name '*.go' -exec \
			sed -i -E 's#^// (	|- )protoc( +)[^ ]+$#// \1protoc\2(version ignored)#' {} +
	done
	if diff -ru "$tmp/norm-committed" "$tmp/norm-generated" >/dev/null; then
		echo "protoc-check: api/arcapb is what protoc generates, but for the protoc version in its headers:"
		echo "  committed: $(protoc_lines "$committed" | tr '\n' ' ')"
		echo "  here:      $(protoc_lines "$generated" | tr '\n' ' ')"
		exit 0
	fi
fi

echo "protoc-check: api/arcapb differs from what protoc generates (- committed, + generated):" >&2
sed -e "s#$tmp/src/api/arcapb#(generated)/api/arcapb#g" "$tmp/diff" >&2
echo "protoc-check: regenerate with 'cd api && go generate .' (protoc $(protoc --version), $PROTOC_GEN_GO, $PROTOC_GEN_GO_GRPC) and commit" >&2
exit 1
