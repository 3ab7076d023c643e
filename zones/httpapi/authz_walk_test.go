package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/arca-data/arca/zones/httpapi"
)

// TestAPIAuthzWalk calls every route of the API as nobody, as a user with
// no access to the fixture, and as its owner: the API decides nothing
// itself, so what each caller may do is what the zone's one permission
// table says (the gRPC walk in zones/rpc checks that table against iRODS).
// A route added to the API without a row here fails the test.
func TestAPIAuthzWalk(t *testing.T) {
	e := startEnv(t)
	mkUser(t, e, "bob", "bob-password")
	bob := e.login("bob", "bob-password")
	put := func(path, body string) {
		resp, b := e.do("PUT", "/api/v1/objects"+path, e.token, strings.NewReader(body), nil)
		if resp.StatusCode != 201 {
			t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, b)
		}
	}
	e.json("POST", "/api/v1/collections/tempZone/home/rods/walk", e.token, nil, 201, nil)
	put("/tempZone/home/rods/walk/obj.txt", "walk")
	put("/tempZone/home/rods/walk/gone.txt", "walk")

	const (
		ok     = "2xx"
		denied = "denied" // 403 (or 404 where the zone hides what one may not see)
		anyone = "any"    // not an authorization question (a login with a wrong password)
	)
	obj, coll := "tempZone/home/rods/walk/obj.txt", "tempZone/home/rods/walk"
	type call struct {
		path, body string
		bob, owner string
	}
	calls := map[string]call{
		"GET /api/v1/openapi.json":           {"/api/v1/openapi.json", "", ok, ok},
		"POST /api/v1/login":                 {"/api/v1/login", `{"user": "bob", "password": "wrong"}`, anyone, anyone},
		"POST /api/v1/logout":                {"", "", ok, ok}, // checked apart: it ends the session
		"GET /api/v1/whoami":                 {"/api/v1/whoami", "", ok, ok},
		"GET /api/v1/entries/{path...}":      {"/api/v1/entries/" + obj, "", denied, ok},
		"DELETE /api/v1/entries/{path...}":   {"/api/v1/entries/tempZone/home/rods/walk/gone.txt", "", denied, ok},
		"GET /api/v1/collections/{path...}":  {"/api/v1/collections/" + coll, "", denied, ok},
		"POST /api/v1/collections/{path...}": {"/api/v1/collections/" + coll + "/sub", "", denied, ok},
		"GET /api/v1/objects/{path...}":      {"/api/v1/objects/" + obj, "", denied, ok},
		"HEAD /api/v1/objects/{path...}":     {"/api/v1/objects/" + obj, "", denied, ok},
		"PUT /api/v1/objects/{path...}":      {"/api/v1/objects/" + coll + "/new.txt?overwrite=true", "new", denied, ok},
		"POST /api/v1/rename":                {"/api/v1/rename", `{"from": "/` + coll + `/new.txt", "to": "/` + coll + `/renamed.txt"}`, denied, ok},
		"GET /api/v1/metadata/{path...}":     {"/api/v1/metadata/" + obj, "", denied, ok},
		"POST /api/v1/metadata/{path...}":    {"/api/v1/metadata/" + obj, `{"action": "set", "avus": [{"attribute": "a", "value": "b"}]}`, denied, ok},
		"GET /api/v1/acl/{path...}":          {"/api/v1/acl/" + obj, "", denied, ok},
		"POST /api/v1/acl/{path...}":         {"/api/v1/acl/" + obj, `{"user": "bob", "level": "null"}`, denied, ok},
		"GET /api/v1/replicas/{path...}":     {"/api/v1/replicas/" + obj, "", denied, ok},
		"POST /api/v1/replicas/{path...}":    {"/api/v1/replicas/" + obj, `{"action": "trim", "keep": 1}`, denied, ok},
		"POST /api/v1/retention/{path...}":   {"/api/v1/retention/" + obj, `{"action": "expire", "period": "5y"}`, denied, ok},
		"GET /api/v1/query":                  {"/api/v1/query?q=SELECT+DATA_NAME", "", ok, ok},
		"POST /api/v1/query":                 {"/api/v1/query", `{"query": "SELECT COLL_NAME"}`, ok, ok},
		"GET /api/v1/jobs":                   {"/api/v1/jobs", "", ok, ok},
		"DELETE /api/v1/jobs/{id}":           {"/api/v1/jobs/999", "", denied, denied}, // no such job: 404 for everyone
		"GET /api/v1/resources":              {"/api/v1/resources", "", ok, ok},
		"GET /api/v1/rules":                  {"/api/v1/rules", "", ok, ok},
		"GET /api/v1/audit":                  {"/api/v1/audit", "", denied, ok},
	}
	check := func(who, route string, status int, want string, body []byte) {
		t.Helper()
		switch want {
		case ok:
			if status < 200 || status > 299 {
				t.Errorf("%s as %s: %d, want success; %s", route, who, status, body)
			}
		case denied:
			if status != 403 && status != 404 {
				t.Errorf("%s as %s: %d, want 403 or 404; %s", route, who, status, body)
			}
		}
	}
	for _, r := range httpapi.RouteList() {
		c, found := calls[r]
		if !found {
			t.Errorf("route %s has no row in the walk", r)
			continue
		}
		if c.path == "" {
			continue
		}
		method, _, _ := strings.Cut(r, " ")
		hdr := map[string]string{}
		if c.body != "" && method != "PUT" {
			hdr["Content-Type"] = "application/json"
		}
		send := func(token string) (*http.Response, []byte) {
			var body *bytes.Reader
			if c.body != "" {
				body = bytes.NewReader([]byte(c.body))
			} else {
				body = bytes.NewReader(nil)
			}
			return e.do(method, c.path, token, body, hdr)
		}
		// Nobody: only the document and the login answer.
		resp, body := send("")
		if r == "GET /api/v1/openapi.json" {
			check("nobody", r, resp.StatusCode, ok, body)
		} else if resp.StatusCode != 401 {
			t.Errorf("%s without credentials: %d, want 401; %s", r, resp.StatusCode, body)
		}
		resp, body = send(bob)
		check("bob", r, resp.StatusCode, c.bob, body)
		resp, body = send(e.token)
		check("the owner", r, resp.StatusCode, c.owner, body)
	}
	// Logout, last: it ends bob's session.
	e.json("POST", "/api/v1/logout", bob, nil, 200, nil)
	resp, body := e.do("GET", "/api/v1/whoami", bob, nil, nil)
	wantProblem(t, "bob after logout", resp, body, 401, "unauthenticated")
}
