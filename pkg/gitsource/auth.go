package gitsource

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Auth are the credentials of a Flux GitRepository's spec.secretRef, as
// source-controller uses them: for http(s), basic auth (username,
// password) or a bearer token; for SSH, a private key (identity, its
// passphrase in password) and the server's host keys (known_hosts).
//
// Over http(s), git receives them as an Authorization header
// (http.<url>.extraHeader) scoped to the repository URL's scheme, host and
// port, through the environment of its own process only (GIT_CONFIG_COUNT,
// GIT_CONFIG_KEY_n, GIT_CONFIG_VALUE_n): never in its arguments, which
// every user of the machine can read, nor in a file or the checkout's
// configuration. An environment is readable only by its owner, like this
// process's memory. git does not know them as credentials: none of the
// user's credential helpers is asked (the list is emptied) or told to
// store them. They are sent only over https, or plain http to a loopback
// address, and HTTP redirects are not followed, so they never reach
// another host.
//
// Over SSH, the key (decrypted, written anew in the OpenSSH format) and
// the known_hosts (parsed, written anew) are files readable by their
// owner only, in a directory of their own removed when git is done,
// whatever happened; git's ssh (GIT_SSH_COMMAND) reads no configuration of
// the user or the system, offers that key only (no agent) and checks the
// server's host key strictly against those known_hosts only. The URL must
// be ssh:// or scp-like user@host:path with a plain host name: no option,
// no remote helper (ext::).
type Auth struct {
	// Secret names the Secret, "<namespace>/<name>", for messages.
	Secret string
	// Username and Password are basic auth; BearerToken, when set, is
	// used instead. Over SSH, Password is the passphrase of Identity.
	Username, Password string
	BearerToken        string
	// Identity, when set, is the SSH private key (PEM or OpenSSH format)
	// and KnownHosts the host keys the SSH server may present (required).
	Identity, KnownHosts string
}

// ErrCredentialsRefused is wrapped by a fetch that would send credentials
// where they may not go: plain http to another host than a loopback
// address, or a transport other than http(s).
var ErrCredentialsRefused = errors.New("credentials refused")

// AuthFromSecret turns the data of the Secret named secret
// ("<namespace>/<name>"), the spec.secretRef of a GitRepository with URL
// rawURL, into Auth as source-controller reads it (fluxcd/pkg/git
// NewAuthOptions): for http(s), bearerToken, else username and password; a
// password needs a username. For SSH (ssh:// or user@host:path), identity
// and known_hosts are required, and password decrypts an encrypted
// identity; the key and the known_hosts are checked here. Nothing to send
// is nil. Neither the warning nor the error holds a value of the Secret.
func AuthFromSecret(secret string, data map[string][]byte, rawURL string) (auth *Auth, warning string, err error) {
	if !isHTTP(rawURL) {
		if !TakesCredentials(rawURL) {
			if !holdsCredentials(data) {
				return nil, "", nil
			}
			return nil, fmt.Sprintf("the credentials of Secret %s (spec.secretRef) are not used: only http(s) and SSH repositories take credentials", secret), nil
		}
		return sshAuthFromSecret(secret, data, rawURL)
	}
	if _, ok := data["ca.crt"]; ok {
		warning = fmt.Sprintf("the ca.crt of Secret %s (spec.secretRef) is not used: the server's certificate is checked against the system's CAs", secret)
	} else if _, ok := data["caFile"]; ok {
		warning = fmt.Sprintf("the caFile of Secret %s (spec.secretRef) is not used: the server's certificate is checked against the system's CAs", secret)
	}
	if tok, ok := data["bearerToken"]; ok {
		return &Auth{Secret: secret, BearerToken: string(tok)}, warning, nil
	}
	user, pass := string(data["username"]), string(data["password"])
	switch {
	case user == "" && pass != "":
		return nil, warning, fmt.Errorf("secretRef %s: 'password' requires 'username' to be set", secret)
	case user == "":
		return nil, warning, nil
	}
	return &Auth{Secret: secret, Username: user, Password: pass}, warning, nil
}

// credentialKeys are the keys of a GitRepository's Secret that
// source-controller reads as credentials or TLS material (fluxcd/pkg/git
// NewAuthOptions, fluxcd/pkg/runtime/secrets).
var credentialKeys = []string{
	"username", "password", "bearerToken",
	"identity", "identity.pub", "known_hosts",
	"ca.crt", "caFile", "tls.crt", "tls.key", "certFile", "keyFile",
}

// holdsCredentials reports whether data has a credential key with a value:
// a Secret that is empty or holds other keys only has nothing to leave
// unused.
func holdsCredentials(data map[string][]byte) bool {
	for _, k := range credentialKeys {
		if len(data[k]) > 0 {
			return true
		}
	}
	return false
}

// isSSH reports whether rawURL is an SSH URL: ssh:// (or git+ssh://,
// ssh+git://) or scp-like user@host:path.
func isSSH(rawURL string) bool {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return !strings.HasPrefix(rawURL, "/") && strings.Contains(rawURL, ":")
	}
	switch strings.ToLower(scheme) {
	case "ssh", "git+ssh", "ssh+git":
		return true
	}
	return false
}

// Key identifies the credentials, for a cache of checkouts: a SHA-256 of
// the header, "" for none.
func (a *Auth) Key() string {
	if a == nil {
		return ""
	}
	if a.Identity != "" {
		return a.sshKey()
	}
	sum := sha256.Sum256([]byte(a.header()))
	return hex.EncodeToString(sum[:])
}

// isHTTP reports whether rawURL is an http or https URL.
// TakesCredentials reports whether a fetch of rawURL can send a Secret's
// credentials: http(s) and SSH URLs do; others (file://, git://) never do.
func TakesCredentials(rawURL string) bool { return isHTTP(rawURL) || isSSH(rawURL) }

func isHTTP(rawURL string) bool {
	scheme, _, ok := strings.Cut(rawURL, "://")
	s := strings.ToLower(scheme)
	return ok && (s == "http" || s == "https")
}

// Secrets are the values of a to mask wherever they might show (the
// password or the token; the SSH key and its passphrase; a user name is no
// secret).
func (a *Auth) Secrets() []string {
	switch {
	case a == nil:
		return nil
	case a.Identity != "":
		return a.sshSecrets()
	case a.BearerToken != "":
		return []string{a.BearerToken}
	case a.Password != "":
		return []string{a.Password}
	}
	return nil
}

// header is the Authorization header a sends.
func (a *Auth) header() string {
	if a.BearerToken != "" {
		return "Authorization: Bearer " + a.BearerToken
	}
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password))
}

// prepare returns the environment that makes git use a's credentials
// with rawURL and nowhere else, and a function to call when git is done
// (it removes the SSH key's directory, created under tempDir); an error
// when rawURL may not receive them. Neither the error nor the
// environment's names hold a value.
func (a *Auth) prepare(rawURL, tempDir string) (env []string, cleanup func(), err error) {
	if a == nil {
		return nil, func() {}, nil
	}
	if a.Identity != "" {
		return a.sshEnv(rawURL, tempDir)
	}
	env, err = a.env(rawURL)
	return env, func() {}, err
}

// env returns the environment that makes git send a's header to the host
// of rawURL and nowhere else; an error when rawURL may not receive it.
// Neither the error nor the environment's names hold a value.
func (a *Auth) env(rawURL string) ([]string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || !isHTTP(rawURL) {
		return nil, fmt.Errorf("%w: the credentials of Secret %s are sent only over http(s), not to %s", ErrCredentialsRefused, a.Secret, RedactURL(rawURL))
	}
	if strings.EqualFold(u.Scheme, "http") && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("%w: the credentials of Secret %s are sent only over https (or http to a loopback address), not to %s", ErrCredentialsRefused, a.Secret, RedactURL(rawURL))
	}
	h := a.header()
	if strings.ContainsAny(h, "\r\n\x00") {
		return nil, fmt.Errorf("%w: Secret %s holds a line break or a NUL in its credentials", ErrCredentialsRefused, a.Secret)
	}
	scope := strings.ToLower(u.Scheme) + "://" + u.Host + "/"
	cfg := [][2]string{
		{"http." + scope + ".extraHeader", h},
		// A redirect would take the header to wherever it points.
		{"http.followRedirects", "false"},
		// An empty value empties the list: no helper of the user's is
		// asked for credentials, nor told to store any.
		{"credential.helper", ""},
	}
	// GIT_TRACE_CURL, if the user sets it, prints headers: redacted.
	env := []string{"GIT_TRACE_REDACT=1", "GIT_CONFIG_COUNT=" + strconv.Itoa(len(cfg))}
	for i, kv := range cfg {
		env = append(env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, kv[0]), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, kv[1]))
	}
	return env, nil
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
