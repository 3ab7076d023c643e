package rpc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/resources"
)

// TestPutMany sends good and bad files over one PutMany stream: each gets
// its own answer, a bad one fails alone and leaves nothing behind, and the
// good ones are stored whole.
func TestPutMany(t *testing.T) {
	e := newDataEnv(t)
	ctx, cancel := context.WithTimeout(authCtx(context.Background(), e.token), time.Minute)
	defer cancel()
	ns := arcapb.NewNamespaceClient(e.grpc)
	xfer := arcapb.NewTransferClient(e.grpc)

	const home = "/tempZone/home/rods/"
	if _, err := e.put(ctx, e.token, home+"taken", []byte("first")); err != nil {
		t.Fatal(err)
	}
	data := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	sum := func(b []byte) string {
		h := resources.NewHash()
		h.Write(b)
		return resources.FormatChecksum(h.Sum(nil))
	}
	whole := func(path string, b []byte) *arcapb.PutHeader {
		return &arcapb.PutHeader{Path: path, Size: int64(len(b)), Data: b}
	}
	a, b, big, empty := data(4096), data(100), data(arcapb.PutManyMaxFile+1), []byte{}
	cases := []struct {
		name string
		file *arcapb.PutHeader
		code codes.Code // OK: stored
		msg  string
	}{
		{"good", whole(home+"a", a), codes.OK, ""},
		{"empty", whole(home+"empty", empty), codes.OK, ""},
		{"checksum", &arcapb.PutHeader{Path: home + "b", Size: int64(len(b)), Data: b, Checksum: sum(b),
			Metadata: []*arcapb.AVU{{Attribute: "k", Value: "v"}}}, codes.OK, ""},
		{"exists", whole(home+"taken", a), codes.AlreadyExists, home + "taken"},
		{"overwrite", &arcapb.PutHeader{Path: home + "taken", Size: int64(len(b)), Data: b, Overwrite: true}, codes.OK, ""},
		{"bad name", whole(home+"x/../y", a), codes.InvalidArgument, ".."},
		{"other zone", whole("/otherZone/home/x", a), codes.NotFound, ""},
		{"too big", whole(home+"big", big), codes.InvalidArgument, "use Put"},
		{"size", &arcapb.PutHeader{Path: home + "short", Size: 10, Data: a}, codes.InvalidArgument, "size 10"},
		{"verify", &arcapb.PutHeader{Path: home + "verify", Size: int64(len(a)), Data: a, Verify: true}, codes.InvalidArgument, "checksum in the header"},
		{"wrong checksum", &arcapb.PutHeader{Path: home + "wrong", Size: int64(len(a)), Data: a, Checksum: sum(b)}, codes.DataLoss, "nothing was kept"},
		{"no file", nil, codes.InvalidArgument, "carries a file"},
	}

	stream, err := xfer.PutMany(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if err := stream.Send(&arcapb.PutManyRequest{Id: uint64(i), File: c.file}); err != nil {
			t.Fatalf("send %s: %v", c.name, err)
		}
	}
	stream.CloseSend()
	got := map[uint64]*arcapb.PutManyResponse{}
	for {
		r, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if got[r.Id] != nil {
			t.Errorf("two answers for file %d", r.Id)
		}
		got[r.Id] = r
	}
	for i, c := range cases {
		r := got[uint64(i)]
		if r == nil {
			t.Errorf("%s: no answer", c.name)
			continue
		}
		st := status.FromProto(r.Status)
		if st.Code() != c.code || !strings.Contains(st.Message(), c.msg) {
			t.Errorf("%s: %v %q, want %v containing %q", c.name, st.Code(), st.Message(), c.code, c.msg)
		}
		if c.code == codes.OK && (r.Entry == nil || r.Entry.Size != c.file.Size || r.Entry.Checksum != sum(c.file.Data)) {
			t.Errorf("%s: entry %+v", c.name, r.Entry)
		}
	}

	for _, c := range cases {
		if c.file == nil || c.name == "overwrite" || c.name == "bad name" {
			continue
		}
		_, err := ns.Stat(ctx, &arcapb.StatRequest{Path: c.file.Path})
		switch {
		case c.code == codes.OK && err != nil:
			t.Errorf("%s: stored, but Stat: %v", c.name, err)
		case c.code != codes.OK && c.name != "exists" && status.Code(err) != codes.NotFound:
			t.Errorf("%s: refused, but Stat: %v", c.name, err)
		}
	}
	for path, want := range map[string][]byte{home + "a": a, home + "b": b, home + "taken": b, home + "empty": empty} {
		_, body, err := e.get(ctx, e.token, path)
		if err != nil || !bytes.Equal(body, want) {
			t.Errorf("get %s: %d bytes, %v; want %d bytes", path, len(body), err, len(want))
		}
	}
	md, err := arcapb.NewMetadataClient(e.grpc).ListMetadata(ctx, &arcapb.ListMetadataRequest{
		Target: &arcapb.MetadataTarget{Kind: arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT, Name: home + "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := md.Recv(); err != nil || len(m.GetAvus()) != 1 || m.Avus[0].Attribute != "k" {
		t.Errorf("metadata of b: %v, %v", m, err)
	}

	// Nothing of the refused files is in the vault: one file per object
	// stored (the overwritten one replaced).
	var files int
	filepath.WalkDir(filepath.Join(e.zone.DataDir, "vault"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return nil
	})
	if files != 4 {
		t.Errorf("%d files in the vault, want 4 (a, empty, b, taken)", files)
	}
}

// TestPutManyCancelled: a client that goes away mid-stream leaves no
// intermediate replica and no file that no replica knows.
func TestPutManyCancelled(t *testing.T) {
	e := newDataEnv(t)
	ctx, cancel := context.WithCancel(authCtx(context.Background(), e.token))
	defer cancel()
	stream, err := arcapb.NewTransferClient(e.grpc).PutMany(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64<<10)
	for i := range 200 {
		if err := stream.Send(&arcapb.PutManyRequest{Id: uint64(i), File: &arcapb.PutHeader{
			Path: fmt.Sprintf("/tempZone/home/rods/c%03d", i), Size: int64(len(b)), Data: b}}); err != nil {
			break
		}
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()

	// The server resolves what the cancelled puts left: every replica good,
	// and exactly one vault file per object.
	ctx2, cancel2 := context.WithTimeout(authCtx(context.Background(), e.token), 30*time.Second)
	defer cancel2()
	ns := arcapb.NewNamespaceClient(e.grpc)
	for {
		list, err := ns.List(ctx2, &arcapb.ListRequest{Path: "/tempZone/home/rods", Replicas: true})
		if err != nil {
			t.Fatal(err)
		}
		objects, notGood := 0, 0
		for {
			r, err := list.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, ent := range r.Entries {
				objects++
				for _, rep := range ent.Replicas {
					if rep.Status != "good" {
						notGood++
					}
				}
			}
		}
		var files int
		filepath.WalkDir(filepath.Join(e.zone.DataDir, "vault"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				files++
			}
			return nil
		})
		if notGood == 0 && files == objects {
			t.Logf("%d objects stored before the cancel", objects)
			return
		}
		if ctx2.Err() != nil {
			t.Fatalf("after the cancel: %d objects, %d replicas not good, %d vault files", objects, notGood, files)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPutManyShutdown stops the server while a PutMany stream is open:
// the files answered are stored, and the stream ends at once with
// Unavailable, instead of taking files until the grace period cuts them
// off mid-way.
func TestPutManyShutdown(t *testing.T) {
	e := newDataEnv(t)
	ctx, cancel := context.WithTimeout(authCtx(context.Background(), e.token), time.Minute)
	defer cancel()
	stream, err := arcapb.NewTransferClient(e.grpc).PutMany(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p := fmt.Sprintf("/tempZone/home/rods/before-%d", i)
		if err := stream.Send(&arcapb.PutManyRequest{Id: uint64(i), File: &arcapb.PutHeader{Path: p, Size: 1, Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		if resp, err := stream.Recv(); err != nil || resp.Status != nil {
			t.Fatalf("file %d: %v, %v", i, resp, err)
		}
	}
	stopped := make(chan struct{})
	go func() { e.zone.Stop(); close(stopped) }()
	start := time.Now()
	_, err = stream.Recv()
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("after the shutdown began: %v; want Unavailable, shutting down", err)
	}
	<-stopped
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("the shutdown took %v with an idle PutMany stream open", waited)
	}
}
