package forge

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Trust is what the user (flags, environment: trusted) allows beyond the
// default of where a forge token may be sent.
type Trust struct {
	// Hosts are further API host names the user confirmed.
	Hosts []string
	// AllowHTTP lets a token travel over plain http to a host that is not
	// a loopback address.
	AllowHTTP bool
}

// TokenTargetError says why a token may not be sent to a forge API.
type TokenTargetError struct {
	Host string // the API's host name
	// Insecure is true for plain http to a non-loopback host; otherwise the
	// host is not the remote's.
	Insecure   bool
	RemoteHost string
}

func (e *TokenTargetError) Error() string {
	if e.Insecure {
		return fmt.Sprintf("the forge API on %s is plain http: the token would travel in clear (use https; plain http only to a loopback address)", e.Host)
	}
	return fmt.Sprintf("the forge API host %s is not the remote's host %s: the token is only sent to the remote's host", e.Host, e.RemoteHost)
}

// CheckTokenTarget reports whether a token may be sent to repo's API, repo
// being what ParseRemote made of remoteURL and a configuration that may come
// from a repository file (not trusted like the user's shell). The API must
// be https (plain http only to a loopback address, or with
// trust.AllowHTTP), on the remote's host, "api." + the remote's host, the
// API host inferred from the remote alone (api.github.com for github.com),
// or a host in trust.Hosts. Host names compare case-insensitively, ports
// are not compared. It returns a *TokenTargetError.
func CheckTokenTarget(repo Repo, remoteURL string, trust Trust) error {
	api, err := url.Parse(repo.APIBase)
	if err != nil || api.Host == "" {
		return fmt.Errorf("forge API URL %q is not a URL", repo.APIBase)
	}
	host := strings.ToLower(api.Hostname())
	if api.Scheme != "https" && !trust.AllowHTTP && !isLoopback(host) {
		return &TokenTargetError{Host: host, Insecure: true}
	}
	rem, err := parseRemoteURL(remoteURL)
	if err != nil {
		return err
	}
	allowed := []string{rem.host, "api." + rem.host}
	if inferred, err := ParseRemote(remoteURL, Config{Kind: repo.Kind}); err == nil {
		if u, err := url.Parse(inferred.APIBase); err == nil {
			allowed = append(allowed, strings.ToLower(u.Hostname()))
		}
	}
	for _, h := range trust.Hosts {
		allowed = append(allowed, strings.ToLower(strings.Trim(strings.TrimSpace(h), "[]")))
	}
	if slices.Contains(allowed, host) {
		return nil
	}
	return &TokenTargetError{Host: host, RemoteHost: rem.host}
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// TrustHostsEnv is the environment variable (comma-separated host names)
// by which the user trusts further forge API hosts, as --trust-forge-host.
const TrustHostsEnv = "KUBECTL_GITOPS_TRUST_FORGE_HOSTS"
