package ocisource

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// ErrTooLarge is returned (wrapped) when a registry response, a layer or
// the unpacked artifact is bigger than its limit.
var ErrTooLarge = errors.New("exceeds the limit")

// ErrCredentialsElsewhere is returned (wrapped) when the registry asks for
// credentials to be sent to a host that is not its own (a token realm on
// another domain).
var ErrCredentialsElsewhere = errors.New("refusing to send credentials to another host")

// guard is the transport between go-containerregistry and the network: it
// bounds every response body (blobs by the layer limit, everything else by
// the manifest limit) and refuses requests that would carry credentials
// (an Authorization header, a token request's form) to a host unrelated to
// the registry's.
type guard struct {
	inner    http.RoundTripper
	registry string
	limits   Limits
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if (req.Header.Get("Authorization") != "" || req.Method == http.MethodPost) && !relatedHost(g.registry, req.URL.Host) {
		return nil, fmt.Errorf("%w: the registry %s sent us to %s", ErrCredentialsElsewhere, g.registry, req.URL.Host)
	}
	resp, err := g.inner.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	what, limit := "response", g.limits.ManifestBytes
	if isBlob(req) {
		what, limit = "blob", g.limits.LayerBytes
	}
	if resp.ContentLength > limit {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("%s from %s: %d bytes %w of %d", what, req.URL.Host, resp.ContentLength, ErrTooLarge, limit)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit, what: what, host: req.URL.Host, limit: limit}
	return resp, nil
}

// isBlob: a blob download, or a redirect that one led to.
func isBlob(req *http.Request) bool {
	for r := req; r != nil; {
		if strings.Contains(r.URL.Path, "/blobs/") {
			return true
		}
		if r.Response == nil {
			return false
		}
		r = r.Response.Request
	}
	return false
}

type limitedBody struct {
	rc         io.ReadCloser
	left       int64
	limit      int64
	what, host string
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more says whether the body really is longer.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%s from %s %w of %d bytes", b.what, b.host, ErrTooLarge, b.limit)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// relatedHost: host is the registry's own host (any port), or shares its
// registrable domain (a token service at auth.example.com for
// registry.example.com). IP addresses must be equal.
// RelatedHost reports whether host (host[:port]) may receive the
// credentials of registry: the same host name, or one under the same
// registrable domain (a token service at auth.example.com for
// registry.example.com). IP addresses and single-label names are related
// only to themselves.
func RelatedHost(registry, host string) bool { return relatedHost(registry, host) }

func relatedHost(registry, host string) bool {
	r, h := hostname(registry), hostname(host)
	if strings.EqualFold(r, h) {
		return true
	}
	if net.ParseIP(r) != nil || net.ParseIP(h) != nil || !strings.Contains(r, ".") || !strings.Contains(h, ".") {
		return false
	}
	a, err1 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(r))
	b, err2 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(h))
	return err1 == nil && err2 == nil && a == b
}

func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}
