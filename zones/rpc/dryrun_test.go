package rpc

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
)

// TestDryRunOverTheWire: irule --dry-run as a client sends it. Bob, who
// may not read alice's object, learns nothing of it through a rule that
// would print its metadata, and the same of a path that is not there;
// alice dry-runs metadata.modify on it with the old and the new AVU; a
// negative size is a bad request.
func TestDryRunOverTheWire(t *testing.T) {
	e := newWalkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := e.fixture(ctx, walkCaller{}, walkCase{})
	set, err := e.zone.Rules().Compile(map[string][]byte{"r.yaml": []byte(`
rules:
  - name: tell-all
    on: ["*"]
    condition: op.name != "rules.dryrun"
    deny: >-
      "exists=" + string(object.exists) + " meta=" + object.metadata.map(k, k + ":" + object.metadata[k]).join(",") +
      " given=" + op.metadata.map(k, k + ":" + op.metadata[k]).join(",") +
      " new=" + op.newMetadata.map(k, k + ":" + op.newMetadata[k]).join(",")
`)})
	if err != nil {
		t.Fatal(err)
	}
	e.zone.Rules().Load(set)
	bob := &walkClient{caller: walkCaller{user: "bob"}, conn: e.conn, env: e, token: e.login(ctx, "bob")}
	alice := &walkClient{caller: walkCaller{user: "alice"}, conn: e.conn, env: e, token: e.login(ctx, "alice")}
	avus := []*arcapb.AVU{{Attribute: f.attr, Value: "v"}, {Attribute: f.attr, Value: "w"}}

	answer := func(c *walkClient, req *arcapb.DryRunRequest) string {
		resp, err := c.rules().DryRun(ctx, req, c.opts()...)
		if err != nil {
			return status.Code(err).String() + " " + strings.ReplaceAll(status.Convert(err).Message(), req.Path, "PATH")
		}
		var b strings.Builder
		for _, d := range resp.Decisions {
			b.WriteString(d.Rule + " " + d.Outcome + " " + d.Message + "; ")
		}
		return b.String()
	}
	for _, op := range []string{"metadata.list", "metadata.modify", "get", "stat", "query", "user.info", "job.list", "ticket.list"} {
		there := answer(bob, &arcapb.DryRunRequest{Op: op, Path: f.obj, Metadata: avus})
		missing := answer(bob, &arcapb.DryRunRequest{Op: op, Path: f.obj + "-missing", Metadata: avus})
		if there != missing {
			t.Errorf("bob's dry run of %s: there %q, missing %q", op, there, missing)
		}
		if strings.Contains(there, f.attr+":v") || strings.Contains(there, "exists=true") {
			t.Errorf("bob's dry run of %s shows alice's object: %s", op, there)
		}
	}
	if got := answer(bob, &arcapb.DryRunRequest{Op: "metadata.list", Path: f.obj}); !strings.HasPrefix(got, "PermissionDenied") {
		t.Errorf("bob's dry run of metadata.list: %s", got)
	}

	got := answer(alice, &arcapb.DryRunRequest{Op: "metadata.modify", Path: f.obj, Metadata: avus})
	if want := "tell-all deny exists=true meta=" + f.attr + ":v given=" + f.attr + ":v new=" + f.attr + ":w"; !strings.Contains(got, want) {
		t.Errorf("alice's dry run of metadata.modify: %q, want %q", got, want)
	}
	got = answer(alice, &arcapb.DryRunRequest{Op: "metadata.add", Path: f.coll, Metadata: avus[:1]})
	if want := "given=" + f.attr + ":v new=" + f.attr + ":v"; !strings.Contains(got, want) {
		t.Errorf("alice's dry run of metadata.add on a collection: %q, want %q", got, want)
	}
	if _, err := alice.rules().DryRun(ctx, &arcapb.DryRunRequest{Op: "put", Path: f.coll + "/new", Size: -7}, alice.opts()...); status.Code(err) != codes.InvalidArgument {
		t.Errorf("dry run of a put of size -7: %v", err)
	}
}
