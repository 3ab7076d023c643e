package server

import "testing"

func TestServerProcs(t *testing.T) {
	for current, want := range map[int]int{1: MinServerProcs, 2: MinServerProcs, MinServerProcs: MinServerProcs, 64: 64} {
		if got := ServerProcs(current); got != want {
			t.Errorf("ServerProcs(%d) = %d, want %d", current, got, want)
		}
	}
}
