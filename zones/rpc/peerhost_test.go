package rpc

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc/peer"
)

func TestClientHost(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{nil, ""},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 40000}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1247}, "2001:db8::1"},
		{&net.UnixAddr{Name: "/run/arca.sock", Net: "unix"}, "/run/arca.sock"},
	} {
		ctx := context.Background()
		if tc.addr != nil {
			ctx = peer.NewContext(ctx, &peer.Peer{Addr: tc.addr})
		}
		if got := peerHost(ctx); got != tc.want {
			t.Errorf("peerHost(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
