// Package api holds Arca's protobuf definitions; the generated Go code is in
// api/arcapb and is committed, so building needs no protoc.
package api

// Every .proto file under arca/v1 is compiled; a service may live in its own file.
//go:generate sh -c "protoc --proto_path=. --go_out=. --go_opt=module=github.com/arca-data/arca/api --go-grpc_out=. --go-grpc_opt=module=github.com/arca-data/arca/api arca/v1/*.proto"
