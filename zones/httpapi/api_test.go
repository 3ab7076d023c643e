package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestAPIEverydayOperations(t *testing.T) {
	e := startEnv(t)
	tok := e.token
	home := "/api/v1/objects/tempZone/home/rods"

	// Upload: 201 once the replica is good.
	data := make([]byte, 300_000)
	rand.Read(data)
	resp, body := e.do("PUT", home+"/data.bin", tok, bytes.NewReader(data), map[string]string{"Content-Type": "application/octet-stream"})
	if resp.StatusCode != 201 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	var entry struct {
		Path, Type, Checksum string
		Size                 int64
		Replicas             []struct{ Status string }
	}
	e.json("GET", "/api/v1/entries/tempZone/home/rods/data.bin", tok, nil, 200, &entry)
	if entry.Size != int64(len(data)) || entry.Type != "data_object" || len(entry.Replicas) != 1 || entry.Replicas[0].Status != "good" {
		t.Errorf("stat after put: %+v", entry)
	}
	// An upload again without overwrite is a conflict; with it, it replaces.
	resp, body = e.do("PUT", home+"/data.bin", tok, bytes.NewReader(data[:10]), nil)
	wantProblem(t, "PUT over an existing object", resp, body, 409, "already_exists")
	resp, body = e.do("PUT", home+"/small.txt?overwrite=true", tok, strings.NewReader("hello, world\n"), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("PUT small: %d %s", resp.StatusCode, body)
	}

	// Download, whole and in ranges.
	resp, body = e.do("GET", home+"/data.bin", tok, nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("GET: %d, %d bytes (want %d)", resp.StatusCode, len(body), len(data))
	}
	if resp.Header.Get("ETag") == "" || resp.Header.Get("Accept-Ranges") != "bytes" || resp.Header.Get("Repr-Digest") == "" {
		t.Errorf("GET headers: %v", resp.Header)
	}
	for _, tc := range []struct {
		rng        string
		start, end int
	}{
		{"bytes=0-99", 0, 100},
		{"bytes=1000-", 1000, len(data)},
		{"bytes=-500", len(data) - 500, len(data)},
		{"bytes=299990-400000", 299990, len(data)},
	} {
		resp, body = e.do("GET", home+"/data.bin", tok, nil, map[string]string{"Range": tc.rng})
		if resp.StatusCode != 206 || !bytes.Equal(body, data[tc.start:tc.end]) {
			t.Errorf("Range %s: %d, %d bytes", tc.rng, resp.StatusCode, len(body))
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end-1, len(data)); resp.Header.Get("Content-Range") != want {
			t.Errorf("Range %s: Content-Range %q, want %q", tc.rng, resp.Header.Get("Content-Range"), want)
		}
	}
	resp, body = e.do("GET", home+"/data.bin", tok, nil, map[string]string{"Range": "bytes=0-9,20-29"})
	if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") ||
		!bytes.Contains(body, data[0:10]) || !bytes.Contains(body, data[20:30]) {
		t.Errorf("two ranges: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, body = e.do("GET", home+"/data.bin", tok, nil, map[string]string{"Range": "bytes=400000-"})
	p := wantProblem(t, "a range beyond the end", resp, body, 416, "range_not_satisfiable")
	if !strings.Contains(p.Error, "300000 bytes") || resp.Header.Get("Content-Range") != "bytes */300000" {
		t.Errorf("a range beyond the end: %+v, Content-Range %q", p, resp.Header.Get("Content-Range"))
	}
	resp, body = e.do("GET", home+"/data.bin", tok, nil, map[string]string{"Range": "lines=1-2"})
	wantProblem(t, "a range of lines", resp, body, 416, "range_not_satisfiable")
	resp, body = e.do("HEAD", home+"/data.bin", tok, nil, nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(data)) {
		t.Errorf("HEAD: %d, length %d, %d body bytes", resp.StatusCode, resp.ContentLength, len(body))
	}
	etag := resp.Header.Get("ETag")
	resp, _ = e.do("GET", home+"/data.bin", tok, nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 304 {
		t.Errorf("If-None-Match of the ETag: %d, want 304", resp.StatusCode)
	}

	// Collections, listing with paging, rename, remove.
	e.json("POST", "/api/v1/collections/tempZone/home/rods/c/d?parents=true", tok, nil, 201, nil)
	for i := range 5 {
		resp, body = e.do("PUT", fmt.Sprintf("%s/c/f%d", home, i), tok, strings.NewReader("x"), nil)
		if resp.StatusCode != 201 {
			t.Fatalf("PUT: %d %s", resp.StatusCode, body)
		}
	}
	var names []string
	after := ""
	for pages := 0; ; pages++ {
		var l struct {
			Entries []struct{ Name, Type string }
			Next    string
		}
		e.json("GET", "/api/v1/collections/tempZone/home/rods/c?limit=2&after="+after, tok, nil, 200, &l)
		for _, en := range l.Entries {
			names = append(names, en.Name)
		}
		if l.Next == "" || pages > 5 {
			break
		}
		after = l.Next
	}
	if fmt.Sprint(names) != "[d f0 f1 f2 f3 f4]" {
		t.Errorf("paged listing: %v", names)
	}
	e.json("POST", "/api/v1/rename", tok, map[string]string{"from": "/tempZone/home/rods/c/f0", "to": "/tempZone/home/rods/c/g0"}, 200, nil)
	e.json("GET", "/api/v1/entries/tempZone/home/rods/c/g0", tok, nil, 200, nil)
	resp, body = e.do("DELETE", "/api/v1/entries/tempZone/home/rods/c", tok, nil, nil)
	wantProblem(t, "removing a collection without recursive", resp, body, 400, "")
	var rm struct {
		DataObjects int64 `json:"data_objects"`
	}
	e.json("DELETE", "/api/v1/entries/tempZone/home/rods/c?recursive=true&force=true", tok, nil, 200, &rm)
	if rm.DataObjects != 5 {
		t.Errorf("removed %d data objects, want 5", rm.DataObjects)
	}
	resp, body = e.do("GET", "/api/v1/entries/tempZone/home/rods/c", tok, nil, nil)
	wantProblem(t, "stat of what was removed", resp, body, 404, "not_found")

	// Metadata.
	var md struct {
		AVUs []struct{ Attribute, Value, Unit string }
	}
	e.json("POST", "/api/v1/metadata/tempZone/home/rods/small.txt", tok,
		map[string]any{"action": "add", "avus": []map[string]string{{"attribute": "project", "value": "apollo"}, {"attribute": "size", "value": "3", "unit": "kB"}}}, 200, &md)
	if len(md.AVUs) != 2 {
		t.Errorf("metadata after add: %+v", md)
	}
	e.json("POST", "/api/v1/metadata/tempZone/home/rods/small.txt", tok,
		map[string]any{"action": "set", "avus": []map[string]string{{"attribute": "project", "value": "gemini"}}}, 200, nil)
	e.json("POST", "/api/v1/metadata/tempZone/home/rods/small.txt", tok,
		map[string]any{"action": "remove", "avus": []map[string]string{{"attribute": "size", "value": "3", "unit": "kB"}}}, 200, nil)
	e.json("GET", "/api/v1/metadata/tempZone/home/rods/small.txt", tok, nil, 200, &md)
	if len(md.AVUs) != 1 || md.AVUs[0].Value != "gemini" {
		t.Errorf("metadata: %+v", md)
	}
	e.json("POST", "/api/v1/metadata/tempZone/home/rods", tok,
		map[string]any{"action": "add", "avus": []map[string]string{{"attribute": "kind", "value": "home"}}}, 200, nil)

	// Query.
	var q struct {
		Columns []string
		Rows    [][]string
	}
	e.json("POST", "/api/v1/query", tok, map[string]string{"query": "SELECT DATA_NAME WHERE META_DATA_ATTR_NAME = 'project' AND META_DATA_ATTR_VALUE = 'gemini'"}, 200, &q)
	if len(q.Rows) != 1 || q.Rows[0][0] != "small.txt" {
		t.Errorf("query: %+v", q)
	}
	resp, body = e.do("GET", "/api/v1/query?q=SELEKT+nonsense", tok, nil, nil)
	wantProblem(t, "a query that does not parse", resp, body, 400, "invalid_argument")

	// ACLs with a second user.
	e.json("POST", "/api/v1/acl/tempZone/home/rods/small.txt", tok, map[string]string{"user": "public", "level": "read"}, 200, nil)
	var acl struct {
		ACL []struct{ User, Level string }
	}
	e.json("GET", "/api/v1/acl/tempZone/home/rods/small.txt", tok, nil, 200, &acl)
	if !strings.Contains(fmt.Sprint(acl.ACL), "public#tempZone read") {
		t.Errorf("ACL: %+v", acl)
	}
	resp, body = e.do("POST", "/api/v1/acl/tempZone/home/rods/small.txt", tok, strings.NewReader(`{"user":"nobody","level":"read"}`), map[string]string{"Content-Type": "application/json"})
	wantProblem(t, "a grant to no such user", resp, body, 404, "not_found")

	// Replicas, jobs, resources, rules, audit.
	var reps struct {
		Replicas []struct{ Resource, Status string }
	}
	e.json("GET", "/api/v1/replicas/tempZone/home/rods/small.txt", tok, nil, 200, &reps)
	if len(reps.Replicas) != 1 || reps.Replicas[0].Resource != "demoResc" {
		t.Errorf("replicas: %+v", reps)
	}
	e.json("GET", "/api/v1/jobs", tok, nil, 200, nil)

	// Retention: a lock shown on the entry, refusing removal with 423;
	// an expiry; bad input.
	resp, body = e.do("PUT", home+"/kept.txt", tok, strings.NewReader("kept"), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("put kept.txt: %d %s", resp.StatusCode, body)
	}
	var locked struct {
		Changed []struct {
			Path      string
			Retention struct {
				Mode   string
				Locked bool
			}
		}
	}
	e.json("POST", "/api/v1/retention/tempZone/home/rods/kept.txt", tok, map[string]string{"action": "set", "mode": "compliance", "period": "1y"}, 200, &locked)
	if len(locked.Changed) != 1 || locked.Changed[0].Retention.Mode != "compliance" || !locked.Changed[0].Retention.Locked {
		t.Errorf("the lock set: %+v", locked)
	}
	var kept struct {
		Retention *struct {
			Mode   string
			Locked bool
		}
	}
	e.json("GET", "/api/v1/entries/tempZone/home/rods/kept.txt", tok, nil, 200, &kept)
	if kept.Retention == nil || kept.Retention.Mode != "compliance" || !kept.Retention.Locked {
		t.Errorf("the entry's retention: %+v", kept.Retention)
	}
	resp, body = e.do("DELETE", "/api/v1/entries/tempZone/home/rods/kept.txt?force=true", tok, nil, nil)
	wantProblem(t, "removing a locked object", resp, body, 423, "")
	e.json("POST", "/api/v1/retention/tempZone/home/rods/kept.txt", tok, map[string]string{"action": "expire", "period": "5y"}, 200, nil)
	resp, body = e.do("POST", "/api/v1/retention/tempZone/home/rods/kept.txt", tok, strings.NewReader(`{"action":"set","mode":"forever","period":"1y"}`), map[string]string{"Content-Type": "application/json"})
	wantProblem(t, "a lock of no such mode", resp, body, 400, "invalid_argument")
	resp, body = e.do("POST", "/api/v1/retention/tempZone/home/rods/kept.txt", tok, strings.NewReader(`{"action":"set","mode":"compliance","period":"1d"}`), map[string]string{"Content-Type": "application/json"})
	wantProblem(t, "a compliance lock shortened", resp, body, 423, "")

	var rescs struct {
		Resources []struct{ Name, Status string }
	}
	e.json("GET", "/api/v1/resources", tok, nil, 200, &rescs)
	if len(rescs.Resources) == 0 {
		t.Errorf("resources: %+v", rescs)
	}
	var rs struct{ Rules []struct{ Name string } }
	e.json("GET", "/api/v1/rules", tok, nil, 200, &rs)
	if len(rs.Rules) != 1 || rs.Rules[0].Name != "no-tmp-files" {
		t.Errorf("rules: %+v", rs)
	}

	// A rule's denial: 403 with the rule's name and message.
	resp, body = e.do("PUT", home+"/notes.tmp", tok, strings.NewReader("scratch"), nil)
	p = wantProblem(t, "a put a rule denies", resp, body, 403, "denied_by_rule")
	if p.Rule != "no-tmp-files" || !strings.Contains(p.Error, "temporary files are not archived") {
		t.Errorf("denial: %+v", p)
	}
	var audit struct {
		Records []struct{ Rule, Outcome string }
	}
	e.json("GET", "/api/v1/audit?rule=no-tmp-files", tok, nil, 200, &audit)
	if len(audit.Records) == 0 {
		t.Errorf("audit of the denial: %+v", audit)
	}
	resp, body = e.do("GET", "/api/v1/entries/tempZone/home/rods/notes.tmp", tok, nil, nil)
	wantProblem(t, "what a rule denied is not there", resp, body, 404, "not_found")

	// whoami and logout: the token no longer works.
	tok2 := e.login("rods", "rods-test-password")
	var me struct{ Name, Type string }
	e.json("GET", "/api/v1/whoami", tok2, nil, 200, &me)
	if me.Name != "rods" || me.Type != "rodsadmin" {
		t.Errorf("whoami: %+v", me)
	}
	e.json("POST", "/api/v1/logout", tok2, nil, 200, nil)
	resp, body = e.do("GET", "/api/v1/whoami", tok2, nil, nil)
	wantProblem(t, "a token after logout", resp, body, 401, "unauthenticated")
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
}

// TestAPIUserAndTicket: a plain user sees 403 where the ACL says no, and a
// ticket opens a download to someone without a session.
func TestAPIUserAndTicket(t *testing.T) {
	e := startEnv(t)
	// Make alice through the API's administrator (iadmin is gRPC's; the zone
	// method is the same).
	mkUser(t, e, "alice", "alice-password")
	alice := e.login("alice", "alice-password")
	resp, body := e.do("PUT", "/api/v1/objects/tempZone/home/rods/secret.txt", e.token, strings.NewReader("top secret"), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("GET", "/api/v1/objects/tempZone/home/rods/secret.txt", alice, nil, nil)
	wantProblem(t, "alice reads rods's object", resp, body, 403, "")
	resp, body = e.do("PUT", "/api/v1/objects/tempZone/home/alice/mine.txt", alice, strings.NewReader("mine"), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("alice PUT: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("GET", "/api/v1/jobs", alice, nil, nil)
	if resp.StatusCode != 200 {
		t.Errorf("alice lists her jobs: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("GET", "/api/v1/audit", alice, nil, nil)
	wantProblem(t, "alice reads the audit", resp, body, 403, "permission_denied")

	ticket := mkTicket(t, e, "/tempZone/home/rods/secret.txt")
	resp, body = e.do("GET", "/api/v1/objects/tempZone/home/rods/secret.txt?ticket="+ticket, "", nil, nil)
	if resp.StatusCode != 200 || string(body) != "top secret" {
		t.Errorf("download with a ticket: %d %q", resp.StatusCode, body)
	}
	resp, body = e.do("GET", "/api/v1/objects/tempZone/home/rods/secret.txt?ticket=wrong", "", nil, nil)
	if resp.StatusCode != 401 && resp.StatusCode != 403 && resp.StatusCode != 404 {
		t.Errorf("download with a wrong ticket: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("GET", "/api/v1/objects/tempZone/home/rods/secret.txt", "", nil, nil)
	wantProblem(t, "no credentials", resp, body, 401, "unauthenticated")

	// HTTP Basic, as WebDAV clients send it.
	req, _ := http.NewRequest("GET", e.base+"/api/v1/whoami", nil)
	req.SetBasicAuth("alice", "alice-password")
	r2, err := e.client.Do(req)
	if err != nil || r2.StatusCode != 200 {
		t.Errorf("Basic: %v %v", r2, err)
	}
	req.SetBasicAuth("alice", "wrong")
	r2, err = e.client.Do(req)
	if err != nil || r2.StatusCode != 401 {
		t.Errorf("Basic with a wrong password: %v %v", r2, err)
	}
}
