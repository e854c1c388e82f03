package controlplane

import (
	"net"
	"testing"
)

// NonLoopbackIP is an address of this host the API server will proxy to
// (it refuses loopback and link-local endpoints); t is skipped if there is
// none.
func NonLoopbackIP(t testing.TB) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
	}
	t.Skip("no non-loopback IPv4 address: the API server does not proxy to loopback")
	return ""
}
