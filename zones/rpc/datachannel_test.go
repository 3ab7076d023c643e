package rpc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/api/datachan"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
	"github.com/arca-data/arca/resources"
)

// dataEnv is a running zone with a logged-in administrator, reached both
// through gRPC and through the data channel.
type dataEnv struct {
	t     *testing.T
	zone  *testzone.Zone
	tls   *tls.Config
	token string
	grpc  *grpc.ClientConn
	// versions are the data-channel versions the client offers; nil for
	// all of them.
	versions []string
	// pool, when set, carries the calls instead of a connection each.
	pool *datachan.Pool
}

func newDataEnv(t *testing.T) *dataEnv {
	t.Helper()
	return newDataEnvFor(t, testzone.StartZone(t, t.TempDir(), server.ServerConfig{}))
}

func newDataEnvFor(t *testing.T, z *testzone.Zone) *dataEnv {
	t.Helper()
	pemBytes, err := os.ReadFile(z.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	conf := &tls.Config{RootCAs: pool, ServerName: z.Host, MinVersion: tls.VersionTLS12}
	conn, err := grpc.NewClient(z.Addr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	resp, err := arcapb.NewAuthClient(conn).Login(context.Background(),
		&arcapb.LoginRequest{User: "rods", Password: testzone.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	return &dataEnv{t: t, zone: z, tls: conf, token: resp.Token, grpc: conn}
}

func (e *dataEnv) dial(ctx context.Context, method, token string) *datachan.Stream {
	e.t.Helper()
	md := map[string]string{}
	if token != "" {
		md["authorization"] = "Bearer " + token
	}
	var s *datachan.Stream
	var err error
	if e.pool != nil {
		s, err = e.pool.Call(ctx, method, md)
	} else {
		conf := e.tls.Clone()
		conf.NextProtos = e.versions
		s, err = datachan.Dial(ctx, e.zone.Addr, conf, method, md)
	}
	if err != nil {
		e.t.Fatalf("dial the data channel: %v", err)
	}
	return s
}

// put uploads data as path with the client's checksum as trailer.
func (e *dataEnv) put(ctx context.Context, token, path string, data []byte) (*arcapb.Entry, error) {
	s := e.dial(ctx, arcapb.Transfer_Put_FullMethodName, token)
	stream := &grpc.GenericClientStream[arcapb.PutRequest, arcapb.Entry]{ClientStream: s}
	h := resources.NewHash()
	h.Write(data)
	msgs := []*arcapb.PutRequest{{Part: &arcapb.PutRequest_Header{Header: &arcapb.PutHeader{
		Path: path, Size: int64(len(data)), Verify: true}}}}
	for off := 0; off < len(data); off += 1 << 20 {
		msgs = append(msgs, &arcapb.PutRequest{Part: &arcapb.PutRequest_Data{Data: data[off:min(off+1<<20, len(data))]}})
	}
	msgs = append(msgs, &arcapb.PutRequest{Part: &arcapb.PutRequest_Trailer{Trailer: &arcapb.PutTrailer{
		Checksum: resources.FormatChecksum(h.Sum(nil))}}})
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			if errors.Is(err, io.EOF) {
				return stream.CloseAndRecv()
			}
			return nil, err
		}
	}
	return stream.CloseAndRecv()
}

func (e *dataEnv) get(ctx context.Context, token, path string) (*arcapb.Entry, []byte, error) {
	s := e.dial(ctx, arcapb.Transfer_Get_FullMethodName, token)
	if err := s.SendMsg(&arcapb.GetRequest{Path: path}); err == nil {
		s.CloseSend()
	}
	stream := &grpc.GenericClientStream[arcapb.GetRequest, arcapb.GetResponse]{ClientStream: s}
	first, err := stream.Recv()
	if err != nil {
		return nil, nil, err
	}
	// The data of a message stays valid until the second Recv after it
	// (datachan.Stream.RecvMsg): check the one before each time.
	var got bytes.Buffer
	var prev, prevCopy []byte
	for {
		m, err := stream.Recv()
		if !bytes.Equal(prev, prevCopy) {
			e.t.Errorf("the data of the message before changed under the caller after one more Recv")
		}
		if err == io.EOF {
			return first.GetHeader(), got.Bytes(), nil
		}
		if err != nil {
			return nil, nil, err
		}
		got.Write(m.GetData())
		prev, prevCopy = m.GetData(), bytes.Clone(m.GetData())
	}
}

// TestDataChannelPutGet moves a file through each version of the data
// channel, and across them: what one version put, the other gets.
func TestDataChannelPutGet(t *testing.T) {
	e := newDataEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := make([]byte, 5<<20+123)
	rand.Read(data)
	other := map[string]string{datachan.Protocol: datachan.ProtocolV1, datachan.ProtocolV1: datachan.Protocol}

	for _, version := range datachan.Protocols {
		t.Run(version, func(t *testing.T) {
			path := "/tempZone/home/rods/big-" + strings.ReplaceAll(version, "/", "-")
			e.versions = []string{version}
			ent, err := e.put(ctx, e.token, path, data)
			if err != nil {
				t.Fatalf("put through the data channel: %v", err)
			}
			if ent.Size != int64(len(data)) {
				t.Errorf("put: size %d, want %d", ent.Size, len(data))
			}
			for _, get := range []string{version, other[version]} {
				e.versions = []string{get}
				head, got, err := e.get(ctx, e.token, path)
				if err != nil {
					t.Fatalf("get through %s: %v", get, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("get through %s returned %d bytes that differ from the %d put", get, len(got), len(data))
				}
				if head.Checksum != ent.Checksum {
					t.Errorf("get through %s: checksum %s, put %s", get, head.Checksum, ent.Checksum)
				}
			}

			// The same handler, the same errors: an existing object without
			// overwrite is refused even while the client is still sending.
			e.versions = []string{version}
			if _, err := e.put(ctx, e.token, path, data); status.Code(err) != codes.AlreadyExists {
				t.Errorf("second put without overwrite: %v, want AlreadyExists", err)
			}
		})
	}
	e.versions = nil
}

// TestDataChannelReuse runs calls one after another through a Pool: version
// 2 carries them all on one connection, version 1 opens one per call, and a
// call that fails leaves its connection closed.
func TestDataChannelReuse(t *testing.T) {
	e := newDataEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := make([]byte, 3<<20+5)
	rand.Read(data)

	for _, tc := range []struct {
		version   string
		wantDials int64 // for 8 calls
		afterFail int64 // for a refused put, on a pooled connection if any, and a get
	}{
		{datachan.Protocol, 1, 1},
		{datachan.ProtocolV1, 8, 2},
	} {
		t.Run(tc.version, func(t *testing.T) {
			var dials atomic.Int64
			conf := e.tls.Clone()
			conf.NextProtos = []string{tc.version}
			conf.VerifyConnection = func(tls.ConnectionState) error { dials.Add(1); return nil }
			e.pool = datachan.NewPool(e.zone.Addr, conf)
			defer func() { e.pool.Close(); e.pool = nil }()

			for i := range 4 {
				path := fmt.Sprintf("/tempZone/home/rods/reuse-%s-%d", strings.ReplaceAll(tc.version, "/", "-"), i)
				if _, err := e.put(ctx, e.token, path, data); err != nil {
					t.Fatalf("put %d: %v", i, err)
				}
				_, got, err := e.get(ctx, e.token, path)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("get %d: %v (%d bytes)", i, err, len(got))
				}
			}
			if n := dials.Load(); n != tc.wantDials {
				t.Errorf("8 calls made %d connections, want %d", n, tc.wantDials)
			}

			// A refused call does not leave its connection for the next:
			// the get after it needs a new one.
			before := dials.Load()
			path := fmt.Sprintf("/tempZone/home/rods/reuse-%s-0", strings.ReplaceAll(tc.version, "/", "-"))
			if _, err := e.put(ctx, e.token, path, data); status.Code(err) != codes.AlreadyExists {
				t.Fatalf("put onto an existing object: %v, want AlreadyExists", err)
			}
			if _, _, err := e.get(ctx, e.token, path); err != nil {
				t.Fatalf("get after a refused put: %v", err)
			}
			if n := dials.Load() - before; n != tc.afterFail {
				t.Errorf("a refused put and a get made %d connections, want %d", n, tc.afterFail)
			}
		})
	}
}

// TestDataChannelIdleShutdown: a connection a client keeps for its next
// call neither holds up the server's shutdown (a call that is running does:
// cmd/arca's TestSIGTERMDrains) nor outlives it.
func TestDataChannelIdleShutdown(t *testing.T) {
	z := testzone.StartZone(t, t.TempDir(), server.ServerConfig{ShutdownGrace: 20 * time.Second})
	e := newDataEnvFor(t, z)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e.pool = datachan.NewPool(z.Addr, e.tls)
	defer e.pool.Close()
	if _, err := e.put(ctx, e.token, "/tempZone/home/rods/idle", []byte("kept for the next call")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	z.Stop()
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the server took %s to stop with an idle data-channel connection open; the grace is 20s", took.Round(time.Millisecond))
	}
	// The server closed the idle connection as it stopped: the client sees
	// that before using it, and its next call fails to connect rather than
	// in the middle.
	_, err := e.pool.Call(ctx, arcapb.Transfer_Put_FullMethodName, map[string]string{"authorization": "Bearer " + e.token})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("a call after the server stopped: %v; want a refused connection", err)
	}
}

func TestDataChannelRefusals(t *testing.T) {
	e := newDataEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := bytes.Repeat([]byte("x"), 3<<20)

	if _, err := e.put(ctx, "", "/tempZone/home/rods/anon", data); status.Code(err) != codes.Unauthenticated {
		t.Errorf("put without a session: %v, want Unauthenticated", err)
	}
	if _, err := e.put(ctx, "forged-token", "/tempZone/home/rods/forged", data); status.Code(err) != codes.Unauthenticated {
		t.Errorf("put with a forged token: %v, want Unauthenticated", err)
	}
	if _, _, err := e.get(ctx, e.token, "/tempZone/home/rods/missing"); status.Code(err) != codes.NotFound {
		t.Errorf("get of a missing object: %v, want NotFound", err)
	}
	s := e.dial(ctx, "/arca.v1.Admin/RemoveUser", e.token)
	s.CloseSend()
	if err := s.RecvMsg(&arcapb.Entry{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("an admin call on the data channel: %v, want Unimplemented", err)
	}

	// A peer announcing a frame over the limit is cut off; the server keeps
	// serving. Before the call is known, the limit is far lower: an
	// unauthenticated peer cannot make the server set aside MaxFrame bytes.
	for _, size := range []uint32{datachan.MaxFrame + 1, datachan.MaxCallFrame + 1} {
		conf := e.tls.Clone()
		conf.NextProtos = []string{datachan.Protocol}
		raw, err := tls.Dial("tcp", e.zone.Addr, conf)
		if err != nil {
			t.Fatal(err)
		}
		var head [5]byte
		binary.BigEndian.PutUint32(head[1:], size)
		raw.Write(head[:])
		raw.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := raw.Read(make([]byte, 1)); err == nil {
			t.Errorf("the server answered an opening frame of %d bytes with %d bytes instead of closing", size, n)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("the server waited for the body of an opening frame of %d bytes instead of closing", size)
		}
		raw.Close()
	}

	// A client that goes away in the middle of a put leaves nothing behind.
	pctx, pcancel := context.WithCancel(ctx)
	s = e.dial(pctx, arcapb.Transfer_Put_FullMethodName, e.token)
	stream := &grpc.GenericClientStream[arcapb.PutRequest, arcapb.Entry]{ClientStream: s}
	stream.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Header{Header: &arcapb.PutHeader{
		Path: "/tempZone/home/rods/cut", Size: 10 << 20}}})
	stream.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Data{Data: data[:1<<20]}})
	pcancel()
	ns := arcapb.NewNamespaceClient(e.grpc)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := ns.Stat(authCtx(ctx, e.token), &arcapb.StatRequest{Path: "/tempZone/home/rods/cut"})
		if status.Code(err) == codes.NotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the interrupted put is still in the catalog: stat = %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// And after all that the data channel still works.
	if _, err := e.put(ctx, e.token, "/tempZone/home/rods/after", data); err != nil {
		t.Fatalf("put after the refusals: %v", err)
	}
}

func authCtx(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}
