package zones_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/zones"
)

type bearer string

func (t bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}
func (bearer) RequireTransportSecurity() bool { return true }

// benchConn is a gRPC connection to a bench zone, logged in as user.
func benchConn(b *testing.B, dir, addr, user, password string) *grpc.ClientConn {
	b.Helper()
	tlsConf, err := tlsca.ClientTLS(filepath.Join(dir, "tls", "ca.pem"), "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	plain, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsConf)))
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	resp, err := arcapb.NewAuthClient(plain).Login(context.Background(), &arcapb.LoginRequest{User: user, Password: password})
	if err != nil {
		b.Fatalf("login %s: %v", user, err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsConf)),
		grpc.WithPerRPCCredentials(bearer(resp.Token)), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// BenchmarkRegister loads data objects through the real gRPC API (TLS,
// Registry.RegisterObjects, one stream of batches) into the embedded
// catalog, each with one good replica and 3 AVUs (project = p0000..p9999,
// sample = unique, size = 0..999 GB) in 100 collections, owned by the
// rodsuser "bench"; then runs the queries through the Query
// service as rods (admin) and as bench (a permission check per row):
//
//	attr=value:     select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'p0042'
//	count-by-value: select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'
//
// ARCA_REGISTER_OBJECTS sets how many (default 100,000; the figure
// is 1,000,000):
//
//	ARCA_REGISTER_OBJECTS=1000000 go test ./zones/ -run '^$' -bench Register -benchtime 1x -timeout 30m
func BenchmarkRegister(b *testing.B) {
	objects := 100_000
	if s := os.Getenv("ARCA_REGISTER_OBJECTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10_000 {
			b.Fatalf("ARCA_REGISTER_OBJECTS=%q: want a number of 10000 or more", s)
		}
		objects = n
	}
	const (
		collections = 100
		projects    = 10_000
		batch       = 10_000
	)
	for i := 0; i < b.N; i++ {
		dir := benchDir(b)
		b.Setenv("ARCA_ADMIN_PASSWORD", "benchpw")
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan net.Addr, 1)
		done := make(chan error, 1)
		go func() {
			done <- server.Run(ctx, server.ServerConfig{DataDir: dir, Addr: "127.0.0.1:0", Out: io.Discard,
				Logger: discardLogger(), Ready: func(a net.Addr) { ready <- a }})
		}()
		addr := (<-ready).String()
		rods := benchConn(b, dir, addr, "rods", "benchpw")
		if _, err := arcapb.NewAdminClient(rods).MakeUser(context.Background(), &arcapb.MakeUserRequest{Name: "bench", Type: "rodsuser", Password: "benchpw"}); err != nil {
			b.Fatal(err)
		}
		benchUser := benchConn(b, dir, addr, "bench", "benchpw")

		b.StartTimer()
		start, cpu0 := time.Now(), processCPU()
		stream, err := arcapb.NewRegistryClient(rods).RegisterObjects(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		perColl := objects / collections
		for first := 0; first < objects; first += batch {
			req := &arcapb.RegisterRequest{Parents: true, Owner: "bench", Objects: make([]*arcapb.RegisterObject, 0, batch)}
			for id := first; id < min(first+batch, objects); id++ {
				req.Objects = append(req.Objects, &arcapb.RegisterObject{
					Path: fmt.Sprintf("/tempZone/home/bench/c%03d/obj%07d", id/perColl, id),
					Replicas: []*arcapb.RegisterReplica{{Resource: zones.DefaultResource,
						PhysicalPath: fmt.Sprintf("bench/c%03d/obj%07d", id/perColl, id), Size: int64(id % 100_000), Checksum: "sha2:x"}},
					Metadata: []*arcapb.AVU{
						{Attribute: "project", Value: fmt.Sprintf("p%04d", id%projects)},
						{Attribute: "sample", Value: fmt.Sprintf("s%07d", id), Unit: "id"},
						{Attribute: "size", Value: strconv.Itoa(id % 1000), Unit: "GB"},
					},
				})
			}
			if err := stream.Send(req); err != nil {
				break // the error comes with CloseAndRecv
			}
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			b.Fatal(err)
		}
		elapsed, cpu := time.Since(start), processCPU()-cpu0
		b.StopTimer()
		if resp.Registered != int64(objects) {
			b.Fatalf("registered %d of %d", resp.Registered, objects)
		}
		b.ReportMetric(float64(objects)/elapsed.Seconds(), "objects/s")
		b.ReportMetric(float64(3*objects)/elapsed.Seconds(), "AVUs/s")
		// On a shared machine wall-clock rates say more about the other
		// load than about Arca: CPU time (client and server together, this
		// process) says what a load costs.
		b.ReportMetric(float64(objects)/cpu.Seconds(), "objects/cpu-s")

		queries := []struct{ name, q string }{
			{"attr=value", "select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'p0042'"},
			{"count-by-value", "select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'"},
		}
		for _, q := range queries {
			for _, who := range []struct {
				name string
				conn *grpc.ClientConn
			}{{"admin", rods}, {"user", benchUser}} {
				best, bestCPU := time.Duration(1<<62), time.Duration(1<<62)
				rows := 0
				for range 3 {
					t0, c0 := time.Now(), processCPU()
					s, err := arcapb.NewQueryClient(who.conn).Run(context.Background(), &arcapb.QueryRequest{Query: q.q})
					if err != nil {
						b.Fatal(err)
					}
					rows = 0
					for {
						resp, err := s.Recv()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatalf("%s as %s: %v", q.name, who.name, err)
						}
						rows += len(resp.Rows)
					}
					best, bestCPU = min(best, time.Since(t0)), min(bestCPU, processCPU()-c0)
				}
				b.ReportMetric(float64(best.Microseconds())/1000, q.name+"/"+who.name+"-ms")
				b.Logf("%s as %s: %d rows, best of 3 %v (CPU %v)", q.name, who.name, rows, best, bestCPU)
			}
		}
		cancel()
		<-done
	}
}
