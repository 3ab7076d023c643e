package rpc

import (
	"testing"

	"github.com/arca-data/arca/zones"
)

// TestErrorCodesComplete: every kind of error has its gRPC code.
func TestErrorCodesComplete(t *testing.T) {
	for k := zones.KindInternal; k <= zones.KindRetained; k++ {
		if _, ok := errorCodes[k]; !ok {
			t.Errorf("kind %v has no gRPC code", k)
		}
	}
}
