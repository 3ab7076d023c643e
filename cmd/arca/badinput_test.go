package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
)

// api is a logged-in connection to a zone through the generated clients.
type api struct {
	conn  *grpc.ClientConn
	auth  arcapb.AuthClient
	ns    arcapb.NamespaceClient
	xfer  arcapb.TransferClient
	admin arcapb.AdminClient
}

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	if b == "" {
		return nil, nil
	}
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return true }

// dialZone connects to z over TLS, trusting only the zone's CA, and logs in
// as user unless user is "".
func dialZone(t *testing.T, z *testzone.Zone, user, password string) *api {
	t.Helper()
	pemBytes, err := os.ReadFile(z.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("%s holds no certificate", z.CAFile)
	}
	tlsConf := &tls.Config{RootCAs: pool, ServerName: z.Host, MinVersion: tls.VersionTLS12}
	token := ""
	if user != "" {
		anon := dialZoneWith(t, z, tlsConf, "")
		resp, err := anon.auth.Login(context.Background(), &arcapb.LoginRequest{User: user, Password: password})
		if err != nil {
			t.Fatalf("login as %s: %v", user, err)
		}
		token = resp.Token
	}
	return dialZoneWith(t, z, tlsConf, token)
}

func dialZoneWith(t *testing.T, z *testzone.Zone, tlsConf *tls.Config, token string) *api {
	t.Helper()
	conn, err := grpc.NewClient(z.Addr,
		grpc.WithTransportCredentials(credentials.NewTLS(tlsConf)),
		grpc.WithPerRPCCredentials(bearer(token)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &api{conn: conn, auth: arcapb.NewAuthClient(conn), ns: arcapb.NewNamespaceClient(conn),
		xfer: arcapb.NewTransferClient(conn), admin: arcapb.NewAdminClient(conn)}
}

// swapCodec marshals like the proto codec, then replaces old by new in the
// wire bytes. It sends what the generated Go code refuses to send (invalid
// UTF-8 in a string field), the way a client in another language could.
// old and new must have the same length, so that length prefixes stay right.
type swapCodec struct{ old, new []byte }

func (c swapCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(bytes.ReplaceAll(b, c.old, c.new))}, nil
}

func (swapCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

func (swapCodec) Name() string { return "proto" }

// pathCall calls one RPC with path where the RPC takes a logical path.
type pathCall struct {
	name string
	call func(ctx context.Context, a *api, path string, opts ...grpc.CallOption) error
}

// pathCalls are the RPCs that take a logical path.
var pathCalls = []pathCall{
	{"Stat", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		_, err := a.ns.Stat(ctx, &arcapb.StatRequest{Path: p}, o...)
		return err
	}},
	{"List", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		s, err := a.ns.List(ctx, &arcapb.ListRequest{Path: p, Recursive: true}, o...)
		if err != nil {
			return err
		}
		for {
			if _, err := s.Recv(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}},
	{"MakeCollection", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		_, err := a.ns.MakeCollection(ctx, &arcapb.MakeCollectionRequest{Path: p}, o...)
		return err
	}},
	{"MakeCollection-p", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		_, err := a.ns.MakeCollection(ctx, &arcapb.MakeCollectionRequest{Path: p, Parents: true}, o...)
		return err
	}},
	{"Rename-from", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		_, err := a.ns.Rename(ctx, &arcapb.RenameRequest{From: p, To: "/tempZone/home/rods/renamed"}, o...)
		return err
	}},
	{"Rename-to", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		_, err := a.ns.Rename(ctx, &arcapb.RenameRequest{From: "/tempZone/home/rods/good.txt", To: p}, o...)
		return err
	}},
	{"Remove", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		_, err := a.ns.Remove(ctx, &arcapb.RemoveRequest{Path: p, Recursive: true, Force: true}, o...)
		return err
	}},
	{"Copy-from", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		_, err := a.ns.Copy(ctx, &arcapb.CopyRequest{From: p, To: "/tempZone/home/rods/copied"}, o...)
		return err
	}},
	{"Copy-to", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		_, err := a.ns.Copy(ctx, &arcapb.CopyRequest{From: "/tempZone/home/rods/good.txt", To: p}, o...)
		return err
	}},
	{"Checksum", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		_, err := a.ns.Checksum(ctx, &arcapb.ChecksumRequest{Path: p, Verify: true}, o...)
		return err
	}},
	{"Put", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		return put(ctx, a, p, []byte("must not be stored\n"), o...)
	}},
	{"Put-chunked", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		s, err := a.xfer.Put(ctx, o...)
		if err != nil {
			return err
		}
		data := bytes.Repeat([]byte("x"), 1<<20)
		msgs := []*arcapb.PutRequest{
			{Part: &arcapb.PutRequest_Header{Header: &arcapb.PutHeader{Path: p, Size: 2 << 20}}},
			{Part: &arcapb.PutRequest_Data{Data: data}},
			{Part: &arcapb.PutRequest_Data{Data: data}},
		}
		for _, m := range msgs {
			if err := s.Send(m); err != nil {
				break // the server answered early; CloseAndRecv has why
			}
		}
		_, err = s.CloseAndRecv()
		return err
	}},
	{"Get", func(ctx context.Context, a *api, p string, o ...grpc.CallOption) error {
		s, err := a.xfer.Get(ctx, &arcapb.GetRequest{Path: p}, o...)
		if err != nil {
			return err
		}
		for {
			if _, err := s.Recv(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}},
}

// put uploads data as one message.
func put(ctx context.Context, a *api, p string, data []byte, o ...grpc.CallOption) error {
	s, err := a.xfer.Put(ctx, o...)
	if err != nil {
		return err
	}
	h := &arcapb.PutHeader{Path: p, Size: int64(len(data)), Data: data}
	if err := s.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Header{Header: h}}); err != nil && err != io.EOF {
		return err
	}
	_, err = s.CloseAndRecv()
	return err
}

// snapshot is everything a bad request could have changed: the catalog's
// namespace as the administrator lists it, the users, and the vault's files.
func snapshot(t *testing.T, a *api, z *testzone.Zone) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	s, err := a.ns.List(ctx, &arcapb.ListRequest{Path: "/", Recursive: true, Replicas: true})
	if err != nil {
		t.Fatal(err)
	}
	for {
		resp, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("list /: %v", err)
		}
		for _, e := range resp.Entries {
			b.WriteString(e.Kind.String() + " " + e.Path + " " + e.Checksum)
			for _, r := range e.Replicas {
				b.WriteString(" " + r.Status + ":" + r.PhysicalPath)
			}
			b.WriteByte('\n')
		}
	}
	users, err := a.admin.ListUsers(ctx, &arcapb.ListUsersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users.Users {
		b.WriteString("user " + u.Name + "#" + u.Zone + " " + u.Type + "\n")
	}
	var files []string
	filepath.WalkDir(filepath.Join(z.DataDir, "vault"), func(path string, d fs.DirEntry, err error) error {
		if err == nil {
			files = append(files, path)
		}
		return nil
	})
	slices.Sort(files)
	b.WriteString("vault:\n" + strings.Join(files, "\n") + "\n")
	return b.String()
}

// TestBadPathsAPI sends malformed logical paths straight to a real zone's
// gRPC API, past the checks of the icommands: every one is refused with
// InvalidArgument and a message naming the problem, and nothing changes.
func TestBadPathsAPI(t *testing.T) {
	z := testzone.StartZone(t, t.TempDir(), server.ServerConfig{})
	a := dialZone(t, z, "rods", testzone.AdminPassword)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := put(ctx, a, "/tempZone/home/rods/good.txt", []byte("good\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ns.MakeCollection(ctx, &arcapb.MakeCollectionRequest{Path: "/tempZone/home/rods/coll"}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, a, z)

	home := "/tempZone/home/rods/"
	long := strings.Repeat("n", 1025)
	tests := []struct {
		name, path, wantMsg string
	}{
		{"NUL", home + "a\x00b", "contains a NUL byte"},
		{"NUL-in-collection", home + "coll\x00/x", "contains a NUL byte"},
		{"name-1025-bytes", home + long, "name is 1025 bytes long, the limit is 1024"},
		{"collection-1025-bytes", home + long + "/x", "name is 1025 bytes long, the limit is 1024"},
		{"path-too-long", home + strings.Repeat("abcdefg/", 1100) + "x", "path is 8821 bytes long, the limit is 8192"},
		{"dotdot", home + "../alice/x", `".." is not allowed as a name`},
		{"dotdot-to-root", "/tempZone/../..", `".." is not allowed as a name`},
		{"dotdot-last", home + "coll/..", `".." is not allowed as a name`},
		{"dot", home + "./good.txt", `"." is not allowed as a name`},
		{"empty-component", home + "coll//x", "has an empty component"},
		{"relative", "tempZone/home/rods/x", "is not absolute"},
		{"empty", "", "empty path"},
		{"control-character", home + "bell\a", "contains a control character"},
		{"delete-character", home + "del\x7f", "contains a control character"},
	}
	for _, tc := range tests {
		for _, pc := range pathCalls {
			t.Run(tc.name+"/"+pc.name, func(t *testing.T) {
				err := pc.call(ctx, a, tc.path)
				checkInvalid(t, err, tc.wantMsg)
			})
		}
	}

	// Invalid UTF-8 cannot even be sent by the generated Go code; another
	// client can send it. The placeholder is swapped for invalid bytes on the
	// wire.
	placeholder := "PLACEHOLDER"
	invalid := "bad\xff\xfename.x"
	if len(invalid) != len(placeholder) {
		t.Fatal("placeholder and its swap must have the same length")
	}
	swap := grpc.ForceCodecV2(swapCodec{old: []byte(placeholder), new: []byte(invalid)})
	for _, pc := range pathCalls {
		t.Run("invalid-UTF-8/"+pc.name, func(t *testing.T) {
			// The Go client refuses to marshal it.
			err := pc.call(ctx, a, home+invalid)
			if err == nil || !strings.Contains(err.Error(), "invalid UTF-8") {
				t.Errorf("the Go client sent invalid UTF-8: %v", err)
			}
			// On the wire the server refuses it.
			err = pc.call(ctx, a, home+placeholder, swap)
			checkInvalidUTF8(t, err)
		})
	}

	if after := snapshot(t, a, z); after != before {
		t.Errorf("bad requests changed the zone:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The zone still serves.
	if err := put(ctx, a, home+"after.txt", []byte("after\n")); err != nil {
		t.Errorf("put after the bad requests: %v", err)
	}
}

// checkInvalid requires err to be InvalidArgument with want in its message.
func checkInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded; want InvalidArgument %q", want)
	}
	st, _ := status.FromError(err)
	if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), want) {
		t.Errorf("got %v: %q; want InvalidArgument with %q", st.Code(), st.Message(), want)
	}
}

// checkInvalidUTF8 requires err to refuse a request for its invalid UTF-8.
// gRPC's proto codec refuses it before any Arca code runs, and answers
// Internal, not InvalidArgument (see the note in the test report).
func checkInvalidUTF8(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("invalid UTF-8 was accepted")
	}
	st, _ := status.FromError(err)
	if !strings.Contains(st.Message(), "invalid UTF-8") {
		t.Errorf("got %v: %q; want a message about invalid UTF-8", st.Code(), st.Message())
	}
	switch st.Code() {
	case codes.InvalidArgument:
	case codes.Internal:
		if !strings.Contains(st.Message(), "grpc: failed to unmarshal") {
			t.Errorf("Internal from Arca itself: %q", st.Message())
		}
	default:
		t.Errorf("got %v: %q; want InvalidArgument", st.Code(), st.Message())
	}
}

// TestBadNamesAPI sends malformed user names where the API takes names.
func TestBadNamesAPI(t *testing.T) {
	z := testzone.StartZone(t, t.TempDir(), server.ServerConfig{})
	a := dialZone(t, z, "rods", testzone.AdminPassword)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := a.admin.MakeUser(ctx, &arcapb.MakeUserRequest{Name: "alice", Type: "rodsuser", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	if err := put(ctx, a, "/tempZone/home/rods/x.txt", []byte("x\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ns.Remove(ctx, &arcapb.RemoveRequest{Path: "/tempZone/home/rods/x.txt"}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, a, z)

	bad := []struct{ name, value, wantMsg string }{
		{"slash", "alice/x", "may only hold letters"},
		{"dotdot", "..", "may not start with"},
		{"dotdot-inside", "rods/../alice", "may only hold letters"},
		{"NUL", "al\x00ice", "may only hold letters"},
		{"long", strings.Repeat("u", 64), "longer than 63 bytes"},
		{"empty", "", "empty user or zone name"},
	}
	for _, tc := range bad {
		t.Run("MakeUser/"+tc.name, func(t *testing.T) {
			_, err := a.admin.MakeUser(ctx, &arcapb.MakeUserRequest{Name: tc.value, Type: "rodsuser", Password: "pw"})
			checkInvalid(t, err, tc.wantMsg)
		})
		t.Run("Login/"+tc.name, func(t *testing.T) {
			if tc.value == "" {
				t.Skip("an empty user name is a failed login, tested in the scripts")
			}
			_, err := a.auth.Login(ctx, &arcapb.LoginRequest{User: tc.value, Password: "pw"})
			checkInvalid(t, err, tc.wantMsg)
		})
		t.Run("RemoveTrash/"+tc.name, func(t *testing.T) {
			if tc.value == "" {
				t.Skip("an empty user is the caller's own trash")
			}
			_, err := a.ns.RemoveTrash(ctx, &arcapb.RemoveTrashRequest{User: tc.value})
			checkInvalid(t, err, tc.wantMsg)
		})
	}
	if after := snapshot(t, a, z); after != before {
		t.Errorf("bad requests changed the zone:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if _, err := a.auth.WhoAmI(ctx, &arcapb.WhoAmIRequest{}); err != nil {
		t.Errorf("the zone no longer serves: %v", err)
	}
}

// TestBadInputCLI covers what txtar cannot hold: invalid UTF-8 in a logical
// path argument and in local file names. The icommands refuse it before
// anything reaches the zone, and nothing is created.
func TestBadInputCLI(t *testing.T) {
	arca, err := exec.LookPath("arca") // the test binary, installed by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	z := testzone.StartZone(t, t.TempDir(), server.ServerConfig{})
	work := t.TempDir()
	env := append(os.Environ(), "ARCA_CONFIG_DIR="+filepath.Join(work, ".arca"), "HOME="+work,
		"ARCA_PASSWORD="+testzone.AdminPassword)
	run := func(args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(arca, args...)
		cmd.Dir, cmd.Env = work, env
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return o.String(), e.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), 0
	}
	if _, stderr, code := run("iinit", "--host", z.Host, "--port", z.Port, "--ca", z.CAFile); code != 0 {
		t.Fatalf("iinit: exit %d: %s", code, stderr)
	}
	must := func(path string, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must(filepath.Join(work, "ok.txt"), "ok\n")
	must(filepath.Join(work, "bad\xffname.txt"), "bad\n")
	must(filepath.Join(work, "tree", "bad\xffname.txt"), "bad\n")
	listing := func() string {
		t.Helper()
		out, stderr, code := run("ils", "-r", "/tempZone")
		if code != 0 {
			t.Fatalf("ils -r: exit %d: %s", code, stderr)
		}
		return out
	}
	before := listing()

	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"ils", []string{"ils", "/tempZone/home/rods/bad\xffname"}, 1, "is not valid UTF-8"},
		{"imkdir", []string{"imkdir", "bad\xffname"}, 1, "is not valid UTF-8"},
		{"iput-target", []string{"iput", "ok.txt", "bad\xffname"}, 1, "is not valid UTF-8"},
		{"iput-local-name", []string{"iput", "bad\xffname.txt"}, 1, "cannot be a data object name"},
		{"iget", []string{"iget", "bad\xffname", "x"}, 1, "is not valid UTF-8"},
		{"irm", []string{"irm", "bad\xffname"}, 1, "is not valid UTF-8"},
		{"ils-name-1025-bytes", []string{"ils", strings.Repeat("n", 1025)}, 1, "name is 1025 bytes long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.wantErr)
			}
			if stdout != "" {
				t.Errorf("%q printed %q", tc.args, stdout)
			}
		})
	}
	if after := listing(); after != before {
		t.Errorf("the zone changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// iput -r of a tree holding a file whose name cannot be a data object
	// name fails, naming the file.
	_, stderr, code := run("iput", "-r", "tree")
	if code != 1 || !strings.Contains(stderr, "cannot be a logical path") || !strings.Contains(stderr, "not valid UTF-8") {
		t.Errorf("iput -r tree: exit %d, stderr %q", code, stderr)
	}
	if out, _, _ := run("ils", "-r", "tree"); strings.Contains(out, "bad") {
		t.Errorf("a bad name got in:\n%s", out)
	}
	if _, stderr, code := run("iput", "ok.txt"); code != 0 {
		t.Errorf("the zone no longer serves: exit %d: %s", code, stderr)
	}
}
