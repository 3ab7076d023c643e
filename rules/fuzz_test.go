package rules

import (
	"context"
	"errors"
	"log/slog"
	"testing"
)

// FuzzCompile feeds arbitrary rule files to the loader: it must never
// panic, and every failure must be a located Errors list or a plain error.
func FuzzCompile(f *testing.F) {
	f.Add([]byte(issueExample))
	f.Add([]byte("rules:\n  - name: r\n    on: [put]\n    condition: object.size > byteSize('1GiB')\n    deny: \"'big'\"\n"))
	f.Add([]byte("rules:\n  - name: r\n    on: '*'\n    when: post\n    then: [{schedule: {every: '@daily', do: [{metadata.set: {attribute: \"'a'\", value: \"'b'\"}}]}}]\n"))
	f.Add([]byte("rules: [{name: a, on: [get], deny: '\"x\"'}, {name: a}]"))
	f.Add([]byte("rules:\n  - &a {name: x}\n  - *a\n"))
	f.Add([]byte(""))
	e, err := New(Options{Registry: testRegistry(f, &recorder{}), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := e.Compile(map[string][]byte{"f.yaml": data})
		if err != nil {
			var es Errors
			if errors.As(err, &es) && len(es) == 0 {
				t.Fatal("an empty error list")
			}
			return
		}
		for _, r := range set.Rules {
			if r.Name == "" || len(r.On) == 0 {
				t.Fatalf("a loaded rule without name or operations: %+v", r)
			}
		}
	})
}

// FuzzRunTests feeds arbitrary test-case files to the runner: it must
// never panic.
func FuzzRunTests(f *testing.F) {
	f.Add([]byte("tests:\n  - {name: a, op: put, path: /tempZone/home/alice/x.tmp, expect: deny, rule: no-tmp-files}\n"))
	f.Add([]byte("tests:\n  - {name: b, op: put, path: /tempZone/a, when: post, expect: match, object: {size: 3, created: '2020-01-01'}, now: x}\n"))
	f.Add([]byte("tests: [{op: remove, path: /, user: 'a#b#c', expect: allow, parent_metadata: {a: b}}]"))
	te := newTestEngine(f, map[string]string{"example.yaml": issueExample})
	f.Fuzz(func(t *testing.T, data []byte) {
		te.RunTests(context.Background(), "f.test.yaml", data, "tempZone")
	})
}
