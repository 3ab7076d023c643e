package resources_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/arca-data/arca/resources"
)

func TestCheckKey(t *testing.T) {
	for _, key := range []string{"a", "a/b.txt", "home/alice/data.csv.1f3a", "..a", "a..", "a/.b", "a b/c", "é/ü", `a\b`} {
		if err := resources.CheckKey(key); err != nil {
			t.Errorf("CheckKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range []string{"", ".", "..", "../x", "a/../../b", "a/..", "/abs", "/", "a//b", "a/", "./a", "a/./b", "a\x00b"} {
		err := resources.CheckKey(key)
		if !errors.Is(err, resources.ErrInvalidKey) {
			t.Errorf("CheckKey(%q) = %v, want ErrInvalidKey", key, err)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(key)) {
			t.Errorf("CheckKey(%q) = %q does not name the key", key, err)
		}
	}
}
