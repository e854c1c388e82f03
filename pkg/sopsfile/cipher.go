package sopsfile

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// ivSize is the GCM nonce size sops uses: 32 bytes, not the usual 12.
const ivSize = 32

// encRE is compiled on first use: seal calls that do not touch SOPS skip it.
var encRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`)
})

// IsEncryptedValue reports whether s has the form of a SOPS-encrypted value.
func IsEncryptedValue(s string) bool { return encRE().MatchString(s) }

// encryptValue encrypts one leaf as sops does. Empty strings stay empty.
func encryptValue(v any, key []byte, aad string, rnd io.Reader) (string, error) {
	var plain []byte
	var typ string
	switch v := v.(type) {
	case string:
		if v == "" {
			return "", nil
		}
		typ, plain = "str", []byte(v)
	case int:
		typ, plain = "int", []byte(strconv.Itoa(v))
	case float64:
		typ, plain = "float", []byte(strconv.FormatFloat(v, 'f', -1, 64))
	case bool:
		typ, plain = "bool", []byte("False")
		if v {
			plain = []byte("True")
		}
	case time.Time:
		b, err := v.MarshalText()
		if err != nil {
			return "", fmt.Errorf("encoding a timestamp at %s: %w", aad, err)
		}
		typ, plain = "time", b
	case comment:
		if v.Value == "" {
			return "", nil
		}
		typ, plain = "comment", []byte(v.Value)
	default:
		return "", fmt.Errorf("cannot encrypt a value of type %T at %s", v, aad)
	}
	gcm, err := newGCM(key)
	if err != nil {
		return "", err
	}
	iv := make([]byte, ivSize)
	if _, err := io.ReadFull(rnd, iv); err != nil {
		return "", fmt.Errorf("generating an IV: %w", err)
	}
	out := gcm.Seal(nil, iv, plain, []byte(aad))
	n := len(out) - gcm.Overhead()
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:%s]",
		base64.StdEncoding.EncodeToString(out[:n]),
		base64.StdEncoding.EncodeToString(iv),
		base64.StdEncoding.EncodeToString(out[n:]), typ), nil
}

// errAuth is returned when a value does not authenticate: a wrong data key,
// a tampered value or a value moved to another key path.
var errAuth = errors.New("value failed authentication (tampered, moved to another key, or wrong data key)")

// decryptValue decrypts one ENC[…] value. The error never contains the
// value or its plaintext.
func decryptValue(s string, key []byte, aad string) (any, error) {
	if s == "" {
		return "", nil
	}
	m := encRE().FindStringSubmatch(s)
	if m == nil {
		return nil, errors.New("value is not in the ENC[AES256_GCM,…] format")
	}
	var parts [3][]byte
	for i := range parts {
		b, err := base64.StdEncoding.DecodeString(m[i+1])
		if err != nil {
			return nil, errors.New("value has invalid base64")
		}
		parts[i] = b
	}
	data, iv, tag := parts[0], parts[1], parts[2]
	if len(iv) == 0 || len(tag) != 16 {
		return nil, errors.New("value has an invalid IV or tag")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	plain, err := gcm.Open(nil, iv, append(append([]byte{}, data...), tag...), []byte(aad))
	if err != nil {
		return nil, errAuth
	}
	text := string(plain)
	switch m[4] {
	case "str":
		return text, nil
	case "int":
		i, err := strconv.Atoi(text)
		if err != nil {
			return nil, errors.New("value of type int does not parse")
		}
		return i, nil
	case "float":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, errors.New("value of type float does not parse")
		}
		return f, nil
	case "bytes":
		return plain, nil
	case "bool":
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, errors.New("value of type bool does not parse")
		}
		return b, nil
	case "time":
		var t time.Time
		if err := t.UnmarshalText(plain); err != nil {
			return nil, errors.New("value of type time does not parse")
		}
		return t, nil
	case "comment":
		return comment{Value: text}, nil
	default:
		return nil, fmt.Errorf("unknown value type %q", m[4])
	}
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, ivSize)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return gcm, nil
}

// leafBytes is what a leaf contributes to the MAC.
func leafBytes(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case []byte:
		return v, nil
	case time.Time:
		return v.MarshalText()
	default:
		return nil, fmt.Errorf("cannot hash a value of type %T", v)
	}
}
