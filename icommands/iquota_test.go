package icommands

import "testing"

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 10239: "10239", 10 << 10: "10.0KiB", 3 << 29: "1.5GiB", 1 << 62: "4.0EiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
