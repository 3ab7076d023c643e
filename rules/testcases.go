package rules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arca-data/arca/catalog"
)

// Test cases kept beside rule files (NAME.test.yaml) let stewards check
// their rules without a zone and without Go:
//
//	tests:
//	  - name: a temporary file is refused
//	    op: put                       # the operation
//	    path: /tempZone/home/alice/x.tmp
//	    user: alice                   # name or name#zone; default rods
//	    user_type: rodsuser           # default rodsuser (rodsadmin for rods)
//	    groups: [lab]
//	    size: 100                     # what a put announces
//	    resource: demoResc            # default demoResc for put and copy
//	    dest: /tempZone/home/alice/y  # for rename and copy
//	    metadata: {project: p1}       # AVUs given with the operation
//	    object:                       # the object as the catalog has it; leave out: nothing there
//	      size: 42
//	      owner: alice
//	      metadata: {retention_until: "2099-01-01"}
//	    parent_metadata: {project: p1}
//	    now: "2026-01-01T00:00:00Z"
//	    when: pre                     # the phase to evaluate; default pre
//	    expect: deny                  # pre: allow | deny | warn; other phases: match | none
//	    rule: no-tmp-files            # the rule that decides (or, for match, one that fires)
//	    message: temporary            # a part of the deny message
//	    actions: [metadata.set]       # actions the matching rules would run
//
// Cases are evaluated like irule --dry-run: conditions and messages, but
// no action runs.
type TestCase struct {
	Name           string            `yaml:"name"`
	Op             string            `yaml:"op"`
	Path           string            `yaml:"path"`
	Dest           string            `yaml:"dest"`
	User           string            `yaml:"user"`
	UserType       string            `yaml:"user_type"`
	Groups         []string          `yaml:"groups"`
	UserMetadata   map[string]string `yaml:"user_metadata"`
	Size           int64             `yaml:"size"`
	Resource       string            `yaml:"resource"`
	Metadata       map[string]string `yaml:"metadata"`
	NewMetadata    map[string]string `yaml:"new_metadata"`
	Grantee        string            `yaml:"grantee"`
	Level          string            `yaml:"level"`
	Account        string            `yaml:"account"`
	Group          string            `yaml:"group"`
	Recursive      bool              `yaml:"recursive"`
	Object         *TestObject       `yaml:"object"`
	ParentMetadata map[string]string `yaml:"parent_metadata"`
	Now            string            `yaml:"now"`
	When           string            `yaml:"when"`
	Error          string            `yaml:"error"`
	Expect         string            `yaml:"expect"`
	Rule           string            `yaml:"rule"`
	Message        string            `yaml:"message"`
	Actions        []string          `yaml:"actions"`

	// AncestorMetadata is the metadata of collections above the object,
	// by path.
	AncestorMetadata map[string]map[string]string `yaml:"ancestor_metadata"`
}

// TestObject is the object of a test case as the catalog has it.
type TestObject struct {
	Collection bool              `yaml:"collection"`
	Size       int64             `yaml:"size"`
	Checksum   string            `yaml:"checksum"`
	Owner      string            `yaml:"owner"`
	Created    string            `yaml:"created"`
	Modified   string            `yaml:"modified"`
	Resource   string            `yaml:"resource"`
	Metadata   map[string]string `yaml:"metadata"`
}

// TestResult is the outcome of one case.
type TestResult struct {
	File, Name string
	Line       int
	Err        error // nil: passed
}

func (r TestResult) String() string {
	if r.Err == nil {
		return fmt.Sprintf("ok   %s:%d: %s", r.File, r.Line, r.Name)
	}
	return fmt.Sprintf("FAIL %s:%d: %s: %v", r.File, r.Line, r.Name, r.Err)
}

// RunTests runs the cases of a test file against the loaded rules. An
// error means the file itself is unreadable.
func (e *Engine) RunTests(ctx context.Context, file string, data []byte, zone string) ([]TestResult, error) {
	return e.runTests(ctx, e.set.Load(), file, data, zone)
}

// TestSet runs the cases of every test file among files (IsTestFile), in
// name order, against set, which need not be loaded: a rule set is tried
// on its own test cases before it is put in use. An error means a test
// file is unreadable; failing cases are in the results.
func (e *Engine) TestSet(ctx context.Context, set *Set, files map[string][]byte, zone string) ([]TestResult, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		if IsTestFile(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var out []TestResult
	for _, name := range names {
		res, err := e.runTests(ctx, set, name, files[name], zone)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

func (e *Engine) runTests(ctx context.Context, set *Set, file string, data []byte, zone string) ([]TestResult, error) {
	var doc struct {
		Tests []yaml.Node `yaml:"tests"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil // an empty file holds no cases
	} else if err != nil {
		return nil, yamlError(file, err)
	}
	var out []TestResult
	for _, n := range doc.Tests {
		var tc TestCase
		res := TestResult{File: file, Line: n.Line}
		if err := n.Decode(&tc); err != nil {
			res.Name, res.Err = "?", err
			out = append(out, res)
			continue
		}
		res.Name = tc.Name
		res.Err = e.runCase(ctx, set, &tc, zone)
		out = append(out, res)
	}
	return out, nil
}

func (e *Engine) runCase(ctx context.Context, set *Set, tc *TestCase, zone string) error {
	if tc.Op == "" || tc.Expect == "" {
		return errors.New("a case needs op and expect")
	}
	req := &Request{Op: tc.Op, Size: tc.Size, Resource: tc.Resource, Zone: zone}
	var err error
	if tc.Path != "" {
		if req.Path, err = catalog.ParsePath(tc.Path); err != nil {
			return err
		}
	}
	if tc.Dest != "" {
		if req.Dest, err = catalog.ParsePath(tc.Dest); err != nil {
			return err
		}
	}
	if req.Resource == "" && (tc.Op == "put" || tc.Op == "copy") {
		req.Resource = "demoResc"
	}
	user := tc.User
	if user == "" {
		user = "rods"
	}
	id, err := catalog.ParseUserID(user, zone)
	if err != nil {
		return err
	}
	req.User = catalog.User{Name: id.Name, Zone: id.Zone, Type: catalog.UserTypeUser}
	if id.Name == "rods" {
		req.User.Type = catalog.UserTypeAdmin
	}
	if tc.UserType != "" {
		if req.User.Type, err = catalog.ParseUserType(tc.UserType); err != nil {
			return err
		}
	}
	req.AVUs, req.NewAVUs = caseAVUs(tc.Metadata), caseAVUs(tc.NewMetadata)
	req.Level, req.Group, req.Recursive = tc.Level, tc.Group, tc.Recursive
	if tc.Grantee != "" {
		if req.Grantee, err = catalog.ParseUserID(tc.Grantee, zone); err != nil {
			return err
		}
		if req.Group == "" {
			req.Group = req.Grantee.Name // as the zone gives it
		}
	}
	if tc.Account != "" {
		if req.Account, err = catalog.ParseUserID(tc.Account, zone); err != nil {
			return err
		}
	}
	req.Now = time.Now()
	if tc.Now != "" {
		if req.Now, err = ParseDate(tc.Now); err != nil {
			return err
		}
	}
	when := When(tc.When)
	if when == "" {
		when = Pre
	}
	if !slices.Contains(phases, when) && when != Every {
		return fmt.Errorf("when: %q is not pre, post, except, finally or every", tc.When)
	}
	var opErr error
	if tc.Error != "" {
		opErr = errors.New(tc.Error)
	}
	cat := &caseCatalog{tc: tc, req: req}
	probe := &Engine{env: e.env, reg: e.reg, cat: cat, log: e.log, audit: e.audit, cost: e.cost, timeout: e.timeout}
	probe.set.Store(set)
	_, decisions := probe.Explain(ctx, req, when, opErr)
	return checkDecisions(tc, when, decisions)
}

// caseAVUs is the AVUs of a map, by attribute.
func caseAVUs(m map[string]string) []catalog.AVU {
	var out []catalog.AVU
	for k, v := range m {
		out = append(out, catalog.AVU{Attribute: k, Value: v})
	}
	slices.SortFunc(out, func(a, b catalog.AVU) int { return strings.Compare(a.Attribute, b.Attribute) })
	return out
}

func checkDecisions(tc *TestCase, when When, ds []Decision) error {
	var got string
	var decider *Decision
	for i := range ds {
		d := &ds[i]
		if d.Outcome == "error" {
			return fmt.Errorf("rule %s failed: %s", d.Rule, d.Message)
		}
	}
	if when == Pre {
		got = "allow"
		for i := range ds {
			d := &ds[i]
			if d.Outcome == "deny" {
				got, decider = "deny", d
				break
			}
			if d.Outcome == "warn" && got == "allow" {
				got, decider = "warn", d
			}
		}
	} else {
		// With a rule named, the case is about that rule alone.
		got = "none"
		for i := range ds {
			if tc.Rule == "" || ds[i].Rule == tc.Rule {
				got, decider = "match", &ds[i]
				break
			}
		}
	}
	if got != tc.Expect {
		return fmt.Errorf("expected %s, got %s%s", tc.Expect, got, describe(decider))
	}
	if tc.Rule != "" {
		if (got == "deny" || got == "warn") && decider.Rule != tc.Rule {
			return fmt.Errorf("expected rule %s to decide, got %s", tc.Rule, decider.Rule)
		}
		if got == "allow" || got == "match" {
			if !slices.ContainsFunc(ds, func(d Decision) bool { return d.Rule == tc.Rule }) {
				return fmt.Errorf("expected rule %s to fire; fired: %s", tc.Rule, fired(ds))
			}
		}
	}
	if tc.Message != "" && (decider == nil || !strings.Contains(decider.Message, tc.Message)) {
		return fmt.Errorf("expected a message containing %q%s", tc.Message, describe(decider))
	}
	var actions []string
	for _, d := range ds {
		actions = append(actions, d.Actions...)
	}
	for _, a := range tc.Actions {
		if !slices.Contains(actions, a) {
			return fmt.Errorf("expected action %s to run; would run: %v", a, actions)
		}
	}
	return nil
}

func describe(d *Decision) string {
	if d == nil {
		return ""
	}
	if d.Message != "" {
		return fmt.Sprintf(" (rule %s: %s)", d.Rule, d.Message)
	}
	return fmt.Sprintf(" (rule %s)", d.Rule)
}

func fired(ds []Decision) string {
	var names []string
	for _, d := range ds {
		names = append(names, d.Rule)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// caseCatalog answers the lookups of rules from a test case.
type caseCatalog struct {
	tc  *TestCase
	req *Request
}

func (c *caseCatalog) Stat(ctx context.Context, p catalog.Path) (catalog.Entry, error) {
	switch {
	case p == c.req.Path && c.tc.Object != nil:
		o := c.tc.Object
		owner, err := catalog.ParseUserID(cmpOr(o.Owner, c.req.User.Name), c.req.Zone)
		if err != nil {
			return catalog.Entry{}, err
		}
		created, modified := c.req.Now, c.req.Now
		if o.Created != "" {
			if created, err = ParseDate(o.Created); err != nil {
				return catalog.Entry{}, err
			}
		}
		if o.Modified != "" {
			if modified, err = ParseDate(o.Modified); err != nil {
				return catalog.Entry{}, err
			}
		}
		if o.Collection {
			return catalog.Entry{Collection: &catalog.Collection{Path: p, Owner: owner, CreateTime: created, ModifyTime: modified}}, nil
		}
		rep := catalog.Replica{Number: 1, Resource: cmpOr(o.Resource, "demoResc"), Size: o.Size, Checksum: o.Checksum, Status: catalog.ReplicaGood, ModifyTime: modified}
		return catalog.Entry{Object: &catalog.DataObject{Path: p, Owner: owner, CreateTime: created, ModifyTime: modified, Replicas: []catalog.Replica{rep}}}, nil
	case !c.req.Path.IsZero() && !c.req.Path.IsRoot() && p == c.req.Path.Parent():
		return catalog.Entry{Collection: &catalog.Collection{Path: p}}, nil
	}
	return catalog.Entry{}, catalog.ErrNotFound
}

func (c *caseCatalog) ListMetadata(ctx context.Context, t catalog.AVUTarget) ([]catalog.AVU, error) {
	var m map[string]string
	switch {
	case t.Kind == catalog.TargetUser:
		m = c.tc.UserMetadata
	case t.Path == c.req.Path && c.tc.Object != nil:
		m = c.tc.Object.Metadata
	case !c.req.Path.IsZero() && !c.req.Path.IsRoot() && t.Path == c.req.Path.Parent() && t.Kind == catalog.TargetCollection && c.tc.ParentMetadata != nil:
		m = c.tc.ParentMetadata
	case t.Kind == catalog.TargetCollection:
		m = c.tc.AncestorMetadata[t.Path.String()]
	}
	var out []catalog.AVU
	for k, v := range m {
		out = append(out, catalog.AVU{Attribute: k, Value: v})
	}
	return out, nil
}

func (c *caseCatalog) GroupsOf(ctx context.Context, u catalog.UserID) ([]catalog.UserID, error) {
	var out []catalog.UserID
	for _, g := range c.tc.Groups {
		out = append(out, catalog.UserID{Name: g, Zone: c.req.Zone})
	}
	return out, nil
}

func (c *caseCatalog) Resource(ctx context.Context, name string) (catalog.Resource, error) {
	return catalog.Resource{Name: name, Type: "posix", Status: "up"}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestDirs loads the rule files of dirs into e (replacing its rules) and
// runs the test cases kept beside them. It fails when the rules do not
// load or a test file is unreadable; failing cases are in the results.
func (e *Engine) TestDirs(ctx context.Context, zone string, dirs ...string) ([]TestResult, error) {
	if _, err := e.LoadDirs(dirs...); err != nil {
		return nil, err
	}
	var out []TestResult
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, ent := range ents {
			if ent.IsDir() || !IsTestFile(ent.Name()) {
				continue
			}
			path := filepath.Join(dir, ent.Name())
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			res, err := e.RunTests(ctx, path, data, zone)
			if err != nil {
				return nil, err
			}
			out = append(out, res...)
		}
	}
	return out, nil
}
