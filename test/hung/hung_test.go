package hung

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

func TestListenAcceptsAndNeverAnswers(t *testing.T) {
	var accepted atomic.Int32
	addr := Listen(t, func() { accepted.Add(1) })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	if n != 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %d bytes, err %v: want nothing until the deadline", n, err)
	}
	for deadline := time.Now().Add(5 * time.Second); accepted.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("onAccept was not called")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
