package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/arca-data/arca/zones/httpapi"
)

const docURL = "https://arca.invalid/api/v1/openapi.json"

// spec is the OpenAPI document, parsed, with its schemas compiled.
type spec struct {
	doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Ref     string `json:"$ref"`
				Content map[string]struct {
					Schema json.RawMessage `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"components"`
	}
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	cache    map[string]*jsonschema.Schema
}

var (
	specOnce sync.Once
	theSpec  *spec
	specErr  error
)

func loadSpec() (*spec, error) {
	specOnce.Do(func() {
		s := &spec{compiler: jsonschema.NewCompiler(), cache: map[string]*jsonschema.Schema{}}
		if specErr = json.Unmarshal(httpapi.OpenAPI(), &s.doc); specErr != nil {
			return
		}
		raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(httpapi.OpenAPI()))
		if err != nil {
			specErr = err
			return
		}
		if specErr = s.compiler.AddResource(docURL, raw); specErr != nil {
			return
		}
		theSpec = s
	})
	return theSpec, specErr
}

// schema compiles the schema at the JSON pointer ptr of the document.
func (s *spec) schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.cache[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	s.cache[ptr] = sch
	return sch, nil
}

// template turns an OpenAPI path template into a regular expression:
// {path} takes the rest of the URL, other parameters one segment.
func template(p string) *regexp.Regexp {
	re := regexp.QuoteMeta(p)
	re = strings.ReplaceAll(re, `\{path\}`, `.*`)
	re = regexp.MustCompile(`\\\{[a-z]+\\\}`).ReplaceAllString(re, `[^/]+`)
	return regexp.MustCompile("^" + re + "$")
}

// check validates one response of the API against the document: its
// operation is documented, its status is among the operation's responses,
// and a JSON body matches the response's schema.
func (s *spec) check(method, urlPath string, status int, contentType string, body []byte) error {
	if i := strings.IndexByte(urlPath, '?'); i >= 0 {
		urlPath = urlPath[:i]
	}
	var tmpl string
	for p := range s.doc.Paths {
		if template(p).MatchString(urlPath) && (tmpl == "" || len(p) > len(tmpl)) {
			tmpl = p
		}
	}
	if tmpl == "" {
		return fmt.Errorf("%s %s: no documented path", method, urlPath)
	}
	op, ok := s.doc.Paths[tmpl][strings.ToLower(method)]
	if !ok {
		return fmt.Errorf("%s %s: %s documents no %s", method, urlPath, tmpl, method)
	}
	r, ok := op.Responses[strconv.Itoa(status)]
	if !ok {
		return fmt.Errorf("%s %s (%s): status %d is not documented", method, urlPath, tmpl, status)
	}
	if !strings.HasPrefix(contentType, "application/json") || method == "HEAD" {
		return nil
	}
	ptr := ""
	if r.Ref != "" {
		name := strings.TrimPrefix(r.Ref, "#/components/responses/")
		ptr = s.doc.Components.Responses[name].Content["application/json"].Schema.Ref
		ptr = strings.TrimPrefix(ptr, "#")
	} else if _, ok := r.Content["application/json"]; ok {
		ptr = "/paths/" + jsonPointerEscape(tmpl) + "/" + strings.ToLower(method) + "/responses/" + strconv.Itoa(status) + "/content/application~1json/schema"
	} else {
		return fmt.Errorf("%s %s: a JSON body where the document has none", method, urlPath)
	}
	sch, err := s.schema(ptr)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s: %v", method, urlPath, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s %s %d: the body does not match its schema: %v\nbody: %s", method, urlPath, status, err, body)
	}
	return nil
}

func jsonPointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// TestOpenAPIRoutes: every route the API serves is documented, and every
// documented operation is served.
func TestOpenAPIRoutes(t *testing.T) {
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, r := range httpapi.RouteList() {
		method, pattern, _ := strings.Cut(r, " ")
		p := strings.ReplaceAll(pattern, "{path...}", "{path}")
		key := strings.ToLower(method) + " " + p
		served[key] = true
		if _, ok := s.doc.Paths[p][strings.ToLower(method)]; !ok {
			t.Errorf("%s is served but not documented", r)
		}
	}
	var documented []string
	for p, ops := range s.doc.Paths {
		for m := range ops {
			documented = append(documented, m+" "+p)
			if !served[m+" "+p] {
				t.Errorf("%s %s is documented but not served", m, p)
			}
		}
	}
	slices.Sort(documented)
	if len(documented) < 20 {
		t.Errorf("only %d operations documented", len(documented))
	}
	// The checker itself catches what it should.
	for _, bad := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/api/v1/whoami", 200, `{"name": 1, "zone": "z", "type": "rodsuser"}`},
		{"GET", "/api/v1/entries/a/b", 200, `{"path": "/a/b"}`},
		{"GET", "/api/v1/entries/a/b", 404, `{"error": "x"}`},
		{"GET", "/api/v1/entries/a/b", 418, `{}`},
		{"GET", "/api/v1/nowhere", 200, `{}`},
		{"PATCH", "/api/v1/whoami", 200, `{}`},
	} {
		if err := s.check(bad.method, bad.path, bad.status, "application/json", []byte(bad.body)); err == nil {
			t.Errorf("%s %s %d %s passed the OpenAPI check", bad.method, bad.path, bad.status, bad.body)
		}
	}
	if err := s.check("GET", "/api/v1/entries/a/b", 404, "application/json", []byte(`{"error": "x", "code": "not_found", "status": 404}`)); err != nil {
		t.Error(err)
	}
	// Every schema compiles.
	var all struct {
		Components struct{ Schemas map[string]any }
	}
	json.Unmarshal(httpapi.OpenAPI(), &all)
	for name := range all.Components.Schemas {
		if _, err := s.schema("/components/schemas/" + name); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
}
