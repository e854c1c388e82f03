package sopsfile

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"go.yaml.in/yaml/v3"
)

// FormatVersion is written as the file's sops version: the sops release
// whose format this package implements (it must be valid semver).
const FormatVersion = "3.13.3"

// otherKeyTypes are the master-key kinds sops supports besides age.
var otherKeyTypes = []string{"pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"}

// ErrMACMismatch is returned when the file's MAC does not match its content.
var ErrMACMismatch = errors.New("MAC mismatch: the file was changed after it was encrypted, or is corrupt")

// ErrNoIdentity is returned when none of the given age identities can open
// the data key.
var ErrNoIdentity = errors.New("no age identity could decrypt the data key")

// EncryptOptions configure Encrypt and Rotate.
type EncryptOptions struct {
	// Recipients are age recipients (age1… or age1pq1…). At least one is
	// required.
	Recipients []string
	// Rule selects the leaves to encrypt (default: unencrypted_suffix
	// "_unencrypted").
	Rule Rule
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the randomness source (default crypto/rand).
	Rand io.Reader
	// Notice, when set, is told what Encrypt changed in the input (the
	// copy annotations it dropped from Secrets). Never a value.
	Notice func(msg string)
}

func (o *EncryptOptions) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
}

// Info describes an encrypted file without decrypting it.
type Info struct {
	// AgeRecipients are the age recipients the data key is wrapped for.
	AgeRecipients []string `json:"ageRecipients"`
	// OtherKeys counts master keys of other kinds (pgp, kms, …) by kind.
	OtherKeys map[string]int `json:"otherKeys,omitempty"`
	// KeyGroups is true when the file uses key_groups (Shamir).
	KeyGroups    bool   `json:"keyGroups,omitempty"`
	Rule         Rule   `json:"rule"`
	LastModified string `json:"lastModified"`
	Version      string `json:"version"`
	Documents    int    `json:"documents"`
}

// file is an encrypted file split into its documents and its metadata.
type file struct {
	docs []branch
	meta map[string]any
}

// IsEncrypted reports whether in is a YAML stream whose first document has a
// top-level "sops" mapping with a non-empty mac (what Flux checks).
func IsEncrypted(in []byte) bool {
	var doc struct {
		Sops struct {
			MAC string `yaml:"mac"`
		} `yaml:"sops"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(in)).Decode(&doc); err != nil {
		return false
	}
	return doc.Sops.MAC != ""
}

func parseEncrypted(in []byte) (*file, error) {
	docs, err := parseYAML(in)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, errors.New("no YAML document found")
	}
	f := &file{}
	for i, d := range docs {
		var kept branch
		for _, it := range d {
			if k, ok := it.Key.(string); ok && k == metadataKey {
				if i == 0 {
					m, ok := it.Value.(branch)
					if !ok {
						return nil, errors.New("the sops metadata is not a mapping")
					}
					if f.meta, err = branchToMap(m); err != nil {
						return nil, fmt.Errorf("reading the sops metadata: %w", err)
					}
				}
				continue
			}
			kept = append(kept, it)
		}
		f.docs = append(f.docs, kept)
	}
	if f.meta == nil {
		return nil, errors.New("not a SOPS file: the first document has no sops metadata")
	}
	return f, nil
}

// branchToMap turns parsed metadata back into plain data (comments dropped).
func branchToMap(b branch) (map[string]any, error) {
	m := map[string]any{}
	for _, it := range b {
		k, ok := it.Key.(string)
		if !ok {
			continue
		}
		v, err := plain(it.Value)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

func plain(v any) (any, error) {
	switch v := v.(type) {
	case branch:
		return branchToMap(v)
	case []any:
		var out []any
		for _, e := range v {
			if _, ok := e.(comment); ok {
				continue
			}
			p, err := plain(e)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	default:
		return v, nil
	}
}

func (f *file) str(key string) string {
	switch v := f.meta[key].(type) {
	case string:
		return v
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (f *file) rule() Rule {
	r := Rule{
		UnencryptedSuffix:       f.str("unencrypted_suffix"),
		EncryptedSuffix:         f.str("encrypted_suffix"),
		UnencryptedRegex:        f.str("unencrypted_regex"),
		EncryptedRegex:          f.str("encrypted_regex"),
		UnencryptedCommentRegex: f.str("unencrypted_comment_regex"),
		EncryptedCommentRegex:   f.str("encrypted_comment_regex"),
	}
	r.MACOnlyEncrypted, _ = f.meta["mac_only_encrypted"].(bool)
	return r.withDefault()
}

type ageEntry struct {
	Recipient string
	Enc       string
}

func (f *file) ageEntries() ([]ageEntry, error) {
	raw, ok := f.meta["age"]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errors.New("sops.age is not a list")
	}
	var out []ageEntry
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, errors.New("sops.age entry is not a mapping")
		}
		r, _ := m["recipient"].(string)
		enc, _ := m["enc"].(string)
		out = append(out, ageEntry{Recipient: r, Enc: enc})
	}
	return out, nil
}

func (f *file) otherKeys() map[string]int {
	out := map[string]int{}
	for _, k := range otherKeyTypes {
		if l, ok := f.meta[k].([]any); ok && len(l) > 0 {
			out[k] = len(l)
		}
	}
	return out
}

func (f *file) info() (*Info, error) {
	entries, err := f.ageEntries()
	if err != nil {
		return nil, err
	}
	inf := &Info{Rule: f.rule(), LastModified: f.str("lastmodified"), Version: f.str("version"), Documents: len(f.docs)}
	for _, e := range entries {
		inf.AgeRecipients = append(inf.AgeRecipients, e.Recipient)
	}
	if o := f.otherKeys(); len(o) > 0 {
		inf.OtherKeys = o
	}
	_, inf.KeyGroups = f.meta["key_groups"]
	return inf, nil
}

// Inspect reads an encrypted file's metadata without decrypting anything.
func Inspect(in []byte) (*Info, error) {
	f, err := parseEncrypted(in)
	if err != nil {
		return nil, err
	}
	return f.info()
}

func (f *file) checkKeyGroups() error {
	if _, ok := f.meta["key_groups"]; ok {
		return errors.New("the file uses key_groups (Shamir secret sharing), which is not supported: use sops for this file")
	}
	return nil
}

// dataKey opens the data key with the identities.
func (f *file) dataKey(ids []age.Identity) ([]byte, error) {
	if err := f.checkKeyGroups(); err != nil {
		return nil, err
	}
	entries, err := f.ageEntries()
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		kinds := slices.Sorted(maps.Keys(f.otherKeys()))
		if len(kinds) > 0 {
			return nil, fmt.Errorf("the file has no age recipients, only %s keys: use sops with access to them", strings.Join(kinds, ", "))
		}
		return nil, errors.New("the file has no age recipients")
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: no age identity given (set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or pass an identity file)", ErrNoIdentity)
	}
	for _, e := range entries {
		r, err := age.Decrypt(armor.NewReader(strings.NewReader(e.Enc)), ids...)
		if err != nil {
			continue
		}
		key, err := io.ReadAll(io.LimitReader(r, 1024))
		if err != nil || len(key) != 32 {
			continue
		}
		return key, nil
	}
	recips := make([]string, 0, len(entries))
	for _, e := range entries {
		recips = append(recips, e.Recipient)
	}
	return nil, fmt.Errorf("%w (the file is encrypted for %s)", ErrNoIdentity, strings.Join(recips, ", "))
}

// decryptTree decrypts the documents in place and returns the MAC computed
// over the plaintext.
func decryptTree(docs []branch, key []byte, r Rule) (string, error) {
	c, err := r.compile()
	if err != nil {
		return "", err
	}
	h := sha512.New()
	if r.MACOnlyEncrypted {
		h.Write(macOnlyEncryptedInit[:])
	}
	for _, d := range docs {
		_, err := walkBranch(d, nil, nil, func(v any, path []string, comments [][]string) (any, error) {
			cm, isComment := v.(comment)
			enc := c.shouldEncrypt(path, comments, isComment)
			out := v
			if enc {
				aad := pathString(path)
				switch {
				case isComment:
					if dv, err := decryptValue(cm.Value, key, aad); err == nil {
						out = dv
					}
				default:
					s, ok := v.(string)
					if !ok {
						return nil, fmt.Errorf("decrypting %s: expected an encrypted string, found a %T", aad, v)
					}
					dv, err := decryptValue(s, key, aad)
					if err != nil {
						return nil, fmt.Errorf("decrypting %s: %w", aad, err)
					}
					out = dv
				}
			}
			if !r.MACOnlyEncrypted || enc {
				if _, ok := out.(comment); !ok {
					b, err := leafBytes(out)
					if err != nil {
						return nil, fmt.Errorf("hashing %s: %w", pathString(path), err)
					}
					h.Write(b)
				}
			}
			return out, nil
		})
		if err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%X", h.Sum(nil)), nil
}

// encryptTree encrypts the documents in place and returns the MAC.
func encryptTree(docs []branch, key []byte, r Rule, rnd io.Reader) (string, error) {
	c, err := r.compile()
	if err != nil {
		return "", err
	}
	h := sha512.New()
	if r.MACOnlyEncrypted {
		h.Write(macOnlyEncryptedInit[:])
	}
	for _, d := range docs {
		_, err := walkBranch(d, nil, nil, func(v any, path []string, comments [][]string) (any, error) {
			_, isComment := v.(comment)
			enc := c.shouldEncrypt(path, comments, isComment)
			if (!r.MACOnlyEncrypted || enc) && !isComment {
				b, err := leafBytes(v)
				if err != nil {
					return nil, fmt.Errorf("hashing %s: %w", pathString(path), err)
				}
				h.Write(b)
			}
			if !enc {
				return v, nil
			}
			s, err := encryptValue(v, key, pathString(path), rnd)
			if err != nil {
				return nil, err
			}
			if isComment && c.unencCommentRE != nil && c.unencCommentRE.MatchString(s) {
				return nil, errors.New("an encrypted comment matches unencrypted_comment_regex: choose a regex that cannot match ENC[…]")
			}
			return s, nil
		})
		if err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%X", h.Sum(nil)), nil
}

// macOnlyEncryptedInit is SHA-256("sops"), fed first into the MAC when
// mac_only_encrypted is set, as sops does.
var macOnlyEncryptedInit = sha256.Sum256([]byte("sops"))

// ParseRecipient parses an age recipient as sops accepts it.
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1pq1"):
		return age.ParseHybridRecipient(s)
	case strings.HasPrefix(s, "ssh-"):
		return nil, errors.New("SSH recipients are not supported: use an age1… recipient")
	case strings.HasPrefix(s, "age1") && strings.Count(s, "1") > 1 && !isX25519(s):
		return nil, fmt.Errorf("age plugin recipient %q is not supported", s)
	default:
		return age.ParseX25519Recipient(s)
	}
}

func isX25519(s string) bool {
	_, err := age.ParseX25519Recipient(s)
	return err == nil
}

// wrapKey encrypts the data key for one recipient, ASCII-armoured.
func wrapKey(key []byte, recipient string) (string, error) {
	r, err := ParseRecipient(recipient)
	if err != nil {
		return "", fmt.Errorf("age recipient %q: %w", recipient, err)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return "", fmt.Errorf("encrypting the data key for %s: %w", recipient, err)
	}
	if _, err := w.Write(key); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func normRecipients(rs []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		for _, p := range strings.Split(r, ",") {
			p = strings.TrimSpace(p)
			if p == "" || seen[p] {
				continue
			}
			if _, err := ParseRecipient(p); err != nil {
				return nil, fmt.Errorf("invalid age recipient %q: %w", p, err)
			}
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no age recipient given")
	}
	return out, nil
}

func ageList(key []byte, recipients []string) ([]any, error) {
	var out []any
	for _, r := range recipients {
		enc, err := wrapKey(key, r)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"recipient": r, "enc": enc})
	}
	return out, nil
}

func (f *file) emit() ([]byte, error) {
	n := &yaml.Node{}
	if err := n.Encode(f.meta); err != nil {
		return nil, fmt.Errorf("writing the sops metadata: %w", err)
	}
	docs := make([]branch, len(f.docs))
	for i, d := range f.docs {
		docs[i] = append(append(branch{}, d...), item{Key: metadataKey, Value: n})
	}
	return emitYAML(docs)
}

// seal encrypts f.docs with a fresh data key for recipients and fills the
// metadata (keeping meta entries other than keys, rule and MAC).
func (f *file) seal(recipients []string, r Rule, opts EncryptOptions) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r = r.withDefault()
	key := make([]byte, 32)
	if _, err := io.ReadFull(opts.Rand, key); err != nil {
		return fmt.Errorf("generating the data key: %w", err)
	}
	mac, err := encryptTree(f.docs, key, r, opts.Rand)
	if err != nil {
		return err
	}
	list, err := ageList(key, recipients)
	if err != nil {
		return err
	}
	lm := opts.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	encMAC, err := encryptValue(mac, key, lm, opts.Rand)
	if err != nil {
		return err
	}
	if f.meta == nil {
		f.meta = map[string]any{}
	}
	for _, fl := range r.fields() {
		delete(f.meta, fl[0])
		if fl[1] != "" {
			f.meta[fl[0]] = fl[1]
		}
	}
	delete(f.meta, "mac_only_encrypted")
	if r.MACOnlyEncrypted {
		f.meta["mac_only_encrypted"] = true
	}
	f.meta["age"] = list
	f.meta["lastmodified"] = lm
	f.meta["mac"] = encMAC
	f.meta["version"] = FormatVersion
	return nil
}

// Encrypt encrypts a plaintext YAML stream (one or more mapping documents)
// for the age recipients. The output is what `sops encrypt` writes, except
// for Kubernetes Secrets: their SecretCopyAnnotations are dropped, and a
// Secret the rule would leave with a value in clear (in data, stringData, an
// annotation or a comment) is an error.
func Encrypt(in []byte, opts EncryptOptions) ([]byte, error) {
	opts.defaults()
	recipients, err := normRecipients(opts.Recipients)
	if err != nil {
		return nil, err
	}
	docs, err := parseYAML(in)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, errors.New("no YAML document to encrypt")
	}
	for _, d := range docs {
		for _, it := range d {
			if k, ok := it.Key.(string); ok && k == metadataKey {
				return nil, errors.New("the input already has a top-level sops key: it is encrypted already")
			}
		}
	}
	if err := opts.Rule.Validate(); err != nil {
		return nil, err
	}
	rule, err := opts.Rule.withDefault().compile()
	if err != nil {
		return nil, err
	}
	for i, d := range docs {
		for _, so := range secretObjects(i, d) {
			for _, a := range dropSecretCopies(so.obj) {
				if opts.Notice != nil {
					opts.Notice(fmt.Sprintf("%s: dropped the annotation %s (a copy of the Secret, values included)", so.title, a))
				}
			}
			if err := checkSecretInClear(so, rule); err != nil {
				return nil, err
			}
		}
	}
	f := &file{docs: docs}
	if err := f.seal(recipients, opts.Rule, opts); err != nil {
		return nil, err
	}
	return f.emit()
}

// DecryptOptions configure Decrypt.
type DecryptOptions struct {
	// IgnoreMAC skips the MAC check (as Flux does). Default false.
	IgnoreMAC bool
}

func (f *file) open(ids []age.Identity, ignoreMAC bool) ([]byte, error) {
	key, err := f.dataKey(ids)
	if err != nil {
		return nil, err
	}
	mac, err := decryptTree(f.docs, key, f.rule())
	if err != nil {
		return nil, err
	}
	if ignoreMAC {
		return key, nil
	}
	stored, err := decryptValue(f.str("mac"), key, f.str("lastmodified"))
	if err != nil {
		return nil, fmt.Errorf("%w (cannot decrypt the MAC: %w)", ErrMACMismatch, err)
	}
	if s, ok := stored.(string); !ok || s != mac {
		return nil, ErrMACMismatch
	}
	return key, nil
}

// Decrypt decrypts a SOPS YAML file with age identities and returns the
// plaintext YAML, as `sops decrypt` prints it.
func Decrypt(in []byte, ids []age.Identity, opts DecryptOptions) ([]byte, error) {
	f, err := parseEncrypted(in)
	if err != nil {
		return nil, err
	}
	if _, err := f.open(ids, opts.IgnoreMAC); err != nil {
		return nil, err
	}
	return emitYAML(f.docs)
}

// KeyChange reports what UpdateKeys or Rotate changed.
type KeyChange struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Kept lists other master keys (pgp, kms, …) carried over untouched.
	Kept []string `json:"kept,omitempty"`
}

// Changed reports whether any recipient was added or removed.
func (c KeyChange) Changed() bool { return len(c.Added)+len(c.Removed) > 0 }

// UpdateKeys re-wraps the file's data key for exactly the given age
// recipients, without touching values, MAC or other master keys. One of the
// identities must open the current data key (unless no recipient is added).
// If nothing changes, the input is returned unchanged.
func UpdateKeys(in []byte, ids []age.Identity, recipients []string) ([]byte, KeyChange, error) {
	var ch KeyChange
	want, err := normRecipients(recipients)
	if err != nil {
		return nil, ch, err
	}
	f, err := parseEncrypted(in)
	if err != nil {
		return nil, ch, err
	}
	if err := f.checkKeyGroups(); err != nil {
		return nil, ch, err
	}
	entries, err := f.ageEntries()
	if err != nil {
		return nil, ch, err
	}
	have := map[string]ageEntry{}
	for _, e := range entries {
		have[e.Recipient] = e
	}
	wantSet := map[string]bool{}
	for _, r := range want {
		wantSet[r] = true
		if _, ok := have[r]; !ok {
			ch.Added = append(ch.Added, r)
		}
	}
	for _, e := range entries {
		if !wantSet[e.Recipient] {
			ch.Removed = append(ch.Removed, e.Recipient)
		}
	}
	ch.Kept = slices.Sorted(maps.Keys(f.otherKeys()))
	if !ch.Changed() {
		return in, ch, nil
	}
	var key []byte
	if len(ch.Added) > 0 {
		if key, err = f.dataKey(ids); err != nil {
			return nil, ch, err
		}
	}
	var list []any
	for _, r := range want {
		if e, ok := have[r]; ok {
			list = append(list, map[string]any{"recipient": r, "enc": e.Enc})
			continue
		}
		enc, err := wrapKey(key, r)
		if err != nil {
			return nil, ch, err
		}
		list = append(list, map[string]any{"recipient": r, "enc": enc})
	}
	f.meta["age"] = list
	out, err := f.emitKeepingDocs(in)
	return out, ch, err
}

// emitKeepingDocs re-emits the file with new metadata. The documents are the
// encrypted ones as parsed, so values are byte-for-byte what they were.
func (f *file) emitKeepingDocs([]byte) ([]byte, error) { return f.emit() }

// Rotate decrypts the file and encrypts it again with a fresh data key (and
// fresh IVs), for the given recipients (nil: the current age recipients).
// The rule stored in the file is kept. Files that also carry other master
// keys are refused: a new data key could not be wrapped for them.
func Rotate(in []byte, ids []age.Identity, recipients []string, opts EncryptOptions) ([]byte, KeyChange, error) {
	opts.defaults()
	var ch KeyChange
	f, err := parseEncrypted(in)
	if err != nil {
		return nil, ch, err
	}
	if other := slices.Sorted(maps.Keys(f.otherKeys())); len(other) > 0 {
		return nil, ch, fmt.Errorf("the file also has %s keys, which a new data key cannot be wrapped for here: rotate it with sops", strings.Join(other, ", "))
	}
	if _, err := f.open(ids, false); err != nil {
		return nil, ch, err
	}
	entries, _ := f.ageEntries()
	current := make([]string, 0, len(entries))
	for _, e := range entries {
		current = append(current, e.Recipient)
	}
	if recipients == nil {
		recipients = current
	}
	want, err := normRecipients(recipients)
	if err != nil {
		return nil, ch, err
	}
	ch.Added, ch.Removed = diffSets(current, want)
	if err := f.seal(want, f.rule(), opts); err != nil {
		return nil, ch, err
	}
	out, err := f.emit()
	return out, ch, err
}

func diffSets(old, cur []string) (added, removed []string) {
	o, c := map[string]bool{}, map[string]bool{}
	for _, s := range old {
		o[s] = true
	}
	for _, s := range cur {
		c[s] = true
		if !o[s] {
			added = append(added, s)
		}
	}
	for _, s := range old {
		if !c[s] {
			removed = append(removed, s)
		}
	}
	return added, removed
}
