package gitsource

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/crypto/ssh"
)

// ErrHostKeyVerification is wrapped by a fetch over SSH whose server
// presented a host key that the known_hosts of the Secret does not list.
var ErrHostKeyVerification = errors.New("host key verification failed")

// sshTarget is the user and host an SSH repository URL names.
type sshTarget struct {
	user, host string
}

var (
	// sshHostRE is a host name or IPv4 address: no option (a leading
	// "-"), no space, no shell or ssh_config syntax.
	sshHostRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
	// sshUserRE is a user name, as plain.
	sshUserRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
)

// parseSSHURL returns the user and host of an SSH repository URL:
// ssh://[user@]host[:port]/path (or git+ssh://, ssh+git://) or scp-like
// [user@]host:path. It refuses anything else git would read differently:
// a remote helper (ext::command, <transport>::address), a host or user
// that looks like an option or holds other than letters, digits, ".", "_"
// and "-" (an IPv6 address in brackets for ssh://), a password in the URL,
// spaces and control characters.
func parseSSHURL(raw string) (sshTarget, error) {
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return sshTarget{}, errors.New("a space or control character in the URL")
	}
	if scheme, _, ok := strings.Cut(raw, "://"); ok {
		switch strings.ToLower(scheme) {
		case "ssh", "git+ssh", "ssh+git":
		default:
			return sshTarget{}, fmt.Errorf("not an SSH URL (scheme %q)", scheme)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return sshTarget{}, errors.New("not a URL with a host")
		}
		if _, ok := u.User.Password(); ok {
			return sshTarget{}, errors.New("a password in the URL")
		}
		host := u.Hostname()
		if ip := net.ParseIP(host); ip == nil && !sshHostRE.MatchString(host) {
			return sshTarget{}, fmt.Errorf("invalid host %q", host)
		}
		if p := u.Port(); p != "" && strings.Trim(p, "0123456789") != "" {
			return sshTarget{}, fmt.Errorf("invalid port %q", p)
		}
		user := u.User.Username()
		if u.User != nil && !sshUserRE.MatchString(user) {
			return sshTarget{}, fmt.Errorf("invalid user %q", user)
		}
		return sshTarget{user: user, host: host}, nil
	}
	// scp-like: what precedes the first ":" (with no "/" before it).
	authority, path, ok := strings.Cut(raw, ":")
	if !ok || strings.Contains(authority, "/") {
		return sshTarget{}, errors.New("not an SSH URL (ssh://host/path or user@host:path)")
	}
	if strings.HasPrefix(path, ":") {
		return sshTarget{}, fmt.Errorf("a git remote helper (%s::), not an SSH URL", authority)
	}
	user, host, hasUser := strings.Cut(authority, "@")
	if !hasUser {
		user, host = "", authority
	}
	if !sshHostRE.MatchString(host) {
		return sshTarget{}, fmt.Errorf("invalid host %q", host)
	}
	if hasUser && !sshUserRE.MatchString(user) {
		return sshTarget{}, fmt.Errorf("invalid user %q", user)
	}
	return sshTarget{user: user, host: host}, nil
}

// sshAuthFromSecret reads the SSH keys of a Secret as source-controller
// does (fluxcd/pkg/git NewAuthOptions, Validate): identity (a private
// key, encrypted or not) and known_hosts are required, password decrypts
// the identity when it is encrypted; identity.pub is not needed. The key
// and the known_hosts are checked here, so that a Secret that cannot work
// is an error before git runs. No error holds a value of the Secret.
func sshAuthFromSecret(secret string, data map[string][]byte, rawURL string) (*Auth, string, error) {
	if _, err := parseSSHURL(rawURL); err != nil {
		return nil, "", fmt.Errorf("secretRef %s: %w: the SSH key is used only with an ssh:// or user@host:path URL: %w", secret, ErrCredentialsRefused, err)
	}
	a := &Auth{Secret: secret, Identity: string(data["identity"]), KnownHosts: string(data["known_hosts"]), Password: string(data["password"])}
	switch {
	case a.Identity == "":
		return nil, "", fmt.Errorf("secretRef %s: 'identity' is required for an SSH repository", secret)
	case a.KnownHosts == "":
		return nil, "", fmt.Errorf("secretRef %s: 'known_hosts' is required for an SSH repository (the server's host key is checked against it)", secret)
	}
	if _, err := a.privateKeyPEM(); err != nil {
		return nil, "", err
	}
	if _, err := a.knownHostsFile(); err != nil {
		return nil, "", err
	}
	return a, "", nil
}

// privateKeyPEM is the Identity, decrypted with Password when it is
// encrypted, written anew in the OpenSSH format: what ssh reads is a key
// this code serialised, never the Secret's bytes.
func (a *Auth) privateKeyPEM() ([]byte, error) {
	key, err := ssh.ParseRawPrivateKey([]byte(a.Identity))
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if a.Password == "" {
			return nil, fmt.Errorf("secretRef %s: the 'identity' is encrypted and 'password' is not set", a.Secret)
		}
		key, err = ssh.ParseRawPrivateKeyWithPassphrase([]byte(a.Identity), []byte(a.Password))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("secretRef %s: 'password' does not decrypt the 'identity'", a.Secret)
		}
	}
	if err != nil {
		// The parser's message is not shown: it might quote the key.
		return nil, fmt.Errorf("secretRef %s: the 'identity' is not a private key (RSA, ECDSA or Ed25519, PEM or OpenSSH format) that can be read", a.Secret)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, fmt.Errorf("secretRef %s: the 'identity' is a %T, which ssh cannot be given", a.Secret, key)
	}
	return pem.EncodeToMemory(block), nil
}

// knownHostsFile is KnownHosts parsed and written anew, one entry a line
// (marker, hosts, key; comments dropped): nothing but host keys reaches
// ssh. An entry that does not parse, or none at all, is an error naming
// the line.
func (a *Auth) knownHostsFile() ([]byte, error) {
	var out strings.Builder
	rest := []byte(a.KnownHosts)
	for {
		before := len(a.KnownHosts) - len(rest)
		marker, hosts, key, _, next, err := ssh.ParseKnownHosts(rest)
		if errors.Is(err, io.EOF) {
			break
		}
		line := strings.Count(a.KnownHosts[:before], "\n") + 1
		if err != nil {
			return nil, fmt.Errorf("secretRef %s: 'known_hosts' from line %d: not a known_hosts entry", a.Secret, line)
		}
		switch marker {
		case "":
		case "cert-authority", "revoked":
			out.WriteString("@" + marker + " ")
		default:
			return nil, fmt.Errorf("secretRef %s: 'known_hosts' from line %d: unknown marker", a.Secret, line)
		}
		for _, h := range hosts {
			if h == "" || strings.ContainsFunc(h, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
				return nil, fmt.Errorf("secretRef %s: 'known_hosts' from line %d: an empty host pattern", a.Secret, line)
			}
		}
		out.WriteString(strings.Join(hosts, ","))
		out.WriteString(" ")
		out.Write(ssh.MarshalAuthorizedKey(key))
		rest = next
	}
	if out.Len() == 0 {
		return nil, fmt.Errorf("secretRef %s: 'known_hosts' holds no host key", a.Secret)
	}
	return []byte(out.String()), nil
}

// sshKey identifies SSH credentials for Key.
func (a *Auth) sshKey() string {
	sum := sha256.Sum256([]byte("ssh\x00" + a.Identity + "\x00" + a.KnownHosts + "\x00" + a.Password))
	return hex.EncodeToString(sum[:])
}

// sshSecrets are the values of SSH credentials to mask: the passphrase,
// the key, and each line of the key's body.
func (a *Auth) sshSecrets() []string {
	out := []string{a.Identity}
	if a.Password != "" {
		out = append(out, a.Password)
	}
	for line := range strings.Lines(a.Identity) {
		line = strings.TrimSpace(line)
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && !strings.Contains(line, ":") {
			out = append(out, line)
		}
	}
	return out
}

// sshEnv writes the key and the known_hosts into a new directory (0700,
// the files 0600; keyDir: under tempDir, else in memory when it can, its
// name holding this process's pid so that a later run sweeps it if this
// one is killed) and returns the environment that makes
// git's ssh use them and nothing else, with a function removing the
// directory, which the caller must call on every path.
//
// ssh runs as GIT_SSH_COMMAND: no configuration file of the user or the
// system (-F /dev/null: no ProxyCommand, no other identity or host), the
// key only (no agent), the host key checked strictly against the Secret's
// known_hosts only, never updated, and no prompt. The user is the URL's,
// else "git", as source-controller's.
func (a *Auth) sshEnv(rawURL, tempDir string) (env []string, cleanup func(), err error) {
	target, err := parseSSHURL(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the SSH key of Secret %s is used only with an ssh:// or user@host:path URL: %w", ErrCredentialsRefused, a.Secret, err)
	}
	key, err := a.privateKeyPEM()
	if err != nil {
		return nil, nil, err
	}
	knownHosts, err := a.knownHostsFile()
	if err != nil {
		return nil, nil, err
	}
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		return nil, nil, fmt.Errorf("fetching over SSH needs the ssh command (OpenSSH): %w", err)
	}
	dir, err := keyDir(tempDir)
	if err != nil {
		return nil, nil, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	// ssh expands "%", "~" and "${…}" in these paths and splits them at
	// spaces; a temporary directory holding any is refused.
	if strings.ContainsAny(dir, " \t\n\"'\\%$~`") {
		return nil, nil, fmt.Errorf("the temporary directory %q holds a character ssh cannot take in a path", dir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, nil, err
	}
	idFile, khFile := filepath.Join(dir, "identity"), filepath.Join(dir, "known_hosts")
	for _, f := range []struct {
		name string
		data []byte
	}{{idFile, key}, {khFile, knownHosts}} {
		if err := writeNew(f.name, f.data); err != nil {
			return nil, nil, err
		}
	}
	args := []string{shellQuote(sshBin), "-F", "/dev/null", "-i", shellQuote(idFile),
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "UserKnownHostsFile=" + shellQuote(khFile), "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "UpdateHostKeys=no", "-o", "BatchMode=yes"}
	if target.user == "" {
		args = append(args, "-o", "User=git")
	}
	return []string{"GIT_SSH_COMMAND=" + strings.Join(args, " "), "GIT_SSH_VARIANT=ssh"}, cleanup, nil
}

// writeNew creates name, readable by its owner only, with data.
func writeNew(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// shellQuote quotes s for the POSIX shell git runs GIT_SSH_COMMAND with.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// hostKeyError says which Secret's known_hosts refused the SSH server of
// rawURL when err is a failed git run whose ssh did not accept the
// server's host key (it wraps ErrHostKeyVerification); other errors are
// returned as they are.
func (a *Auth) hostKeyError(rawURL string, err error) error {
	if a == nil || a.Identity == "" || !errors.Is(err, ErrHostKeyVerification) {
		return err
	}
	host := "of the repository"
	if t, perr := parseSSHURL(rawURL); perr == nil {
		host = t.host
	}
	return fmt.Errorf("the SSH server %s presented a host key that the known_hosts of Secret %s (spec.secretRef) does not list: %w", host, a.Secret, err)
}
