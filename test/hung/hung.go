package hung

import (
	"net"
	"sync"
	"testing"
)

// Listen starts a listener on 127.0.0.1 that accepts connections, holds
// them open and never writes a byte; onAccept, when not nil, is called after
// each connection is accepted. It returns the listener's "host:port". The
// listener and every connection are closed when the test ends.
func Listen(t testing.TB, onAccept func()) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if onAccept != nil {
				onAccept()
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}
