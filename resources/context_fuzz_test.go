package resources

import "testing"

// FuzzResourceContext: a resource context parses or fails, and what parses
// survives formatting and parsing again.
func FuzzResourceContext(f *testing.F) {
	for _, s := range []string{"", "cache=c1;archive=a1", "write=0;read=1", "high_water=1GiB; low_water=500MiB", ";;", "=x", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kv, err := ParseContext(s)
		if err != nil {
			return
		}
		again, err := ParseContext(FormatContext(kv))
		if err != nil {
			t.Fatalf("ParseContext(FormatContext(%v)): %v", kv, err)
		}
		for k, v := range kv {
			if again[k] != v {
				t.Errorf("%q: %q=%q became %q", s, k, v, again[k])
			}
		}
	})
}
