package sealing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// sessionKeySize is the AES-256 key made for each value.
const sessionKeySize = 32

// ErrDecrypt is returned when no private key can decrypt a value: a wrong
// key, a wrong scope/name/namespace, or a tampered ciphertext.
var ErrDecrypt = errors.New("no key could decrypt the value (wrong private key, wrong name/namespace/scope, or tampered ciphertext)")

// HybridEncrypt encrypts plaintext for pub with label, in the controller's
// format: uint16 length ‖ RSA-OAEP(SHA-256, label)(session key) ‖
// AES-256-GCM(session key, zero nonce)(plaintext).
func HybridEncrypt(rnd io.Reader, pub *rsa.PublicKey, plaintext, label []byte) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	key := make([]byte, sessionKeySize)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, fmt.Errorf("generating a session key: %w", err)
	}
	rsaCT, err := rsa.EncryptOAEP(sha256.New(), rnd, pub, key, label)
	if err != nil {
		return nil, fmt.Errorf("encrypting the session key: %w", err)
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 2, 2+len(rsaCT)+len(plaintext)+gcm.Overhead())
	binary.BigEndian.PutUint16(out, uint16(len(rsaCT)))
	out = append(out, rsaCT...)
	// A zero nonce is safe: every session key encrypts exactly one value.
	return gcm.Seal(out, make([]byte, gcm.NonceSize()), plaintext, nil), nil
}

// HybridDecrypt reverses HybridEncrypt, trying each key in turn.
func HybridDecrypt(keys []*rsa.PrivateKey, ciphertext, label []byte) ([]byte, error) {
	if len(ciphertext) < 2 {
		return nil, errors.New("ciphertext too short")
	}
	n := int(binary.BigEndian.Uint16(ciphertext))
	if len(ciphertext) < 2+n {
		return nil, errors.New("ciphertext too short")
	}
	rsaCT, aesCT := ciphertext[2:2+n], ciphertext[2+n:]
	for _, k := range keys {
		key, err := rsa.DecryptOAEP(sha256.New(), nil, k, rsaCT, label)
		if err != nil {
			continue
		}
		gcm, err := newGCM(key)
		if err != nil {
			continue
		}
		plain, err := gcm.Open(nil, make([]byte, gcm.NonceSize()), aesCT, nil)
		if err != nil {
			continue
		}
		return plain, nil
	}
	return nil, ErrDecrypt
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return cipher.NewGCM(block)
}
