package chartsource

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/ocisource"
)

// guard is the transport under every request this package makes. It
//   - refuses any scheme but http and https (a hostile index or redirect
//     cannot make this read file:// or anything else);
//   - adds the basic-auth credentials only to requests for the hosts they
//     are for (the repository's; chart hosts with PassCredentials), on
//     every hop of a redirect alike, so a redirect to another host carries
//     none;
//   - refuses to send credentials (its own or an Authorization header set
//     above it, as the registry client does) over plain http to anything
//     but a loopback address;
//   - bounds every response body (bodyLimit) and the number of requests.
type guard struct {
	inner     http.RoundTripper
	auth      *BasicAuth
	authHosts map[string]bool
	allHosts  bool
	bodyLimit func(*http.Request) int64
	requests  atomic.Int64
	maxReq    int64
	// registry, for OCI, is the registry's host[:port]: a request carrying
	// credentials (an Authorization header, a token request's form) to an
	// unrelated host — a token realm elsewhere — is refused.
	registry string
}

// errCredentialsOverHTTP is returned rather than sending credentials in the
// clear.
var errCredentialsOverHTTP = errors.New("refusing to send credentials over plain http to a host that is not a loopback address")

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	switch req.URL.Scheme {
	case "http", "https":
	default:
		return nil, fmt.Errorf("refusing a %q URL: only http and https are fetched", req.URL.Scheme)
	}
	if g.maxReq > 0 && g.requests.Add(1) > g.maxReq {
		return nil, fmt.Errorf("more than %d requests to the repository: giving up", g.maxReq)
	}
	if g.registry != "" && (req.Header.Get("Authorization") != "" || req.Method == http.MethodPost) && !ocisource.RelatedHost(g.registry, req.URL.Host) {
		return nil, fmt.Errorf("%w: the registry %s sent us to %s", ocisource.ErrCredentialsElsewhere, g.registry, req.URL.Host)
	}
	out := req.Clone(req.Context())
	host := canonicalHost(req.URL)
	if g.auth != nil && (g.allHosts || g.authHosts[host]) {
		out.SetBasicAuth(g.auth.Username, g.auth.Password)
	}
	if out.Header.Get("Authorization") != "" && req.URL.Scheme == "http" && !isLoopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("%s: %w", req.URL.Host, errCredentialsOverHTTP)
	}
	resp, err := g.inner.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	if g.bodyLimit != nil {
		if n := g.bodyLimit(req); n > 0 {
			resp.Body = &limitedBody{rc: resp.Body, left: n, limit: n, host: req.URL.Host}
		}
	}
	return resp, nil
}

// canonicalHost is host:port with the scheme's default port made explicit.
func canonicalHost(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "oci": "443"}[u.Scheme]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// limitedBody fails a read past its limit instead of truncating silently.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
	host  string
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more says whether the body really is larger.
		var b [1]byte
		if n, _ := l.rc.Read(b[:]); n > 0 {
			return 0, fmt.Errorf("response from %s larger than %d bytes", l.host, l.limit)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

// readBounded reads r up to limit bytes, failing if there are more.
func readBounded(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than the limit of %d bytes", what, limit)
	}
	return b, nil
}
