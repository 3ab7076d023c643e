package rules

import (
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
