package sealing

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"testing"
)

// FuzzUnseal feeds arbitrary bytes to the SealedSecret decoder and the
// unsealer: they must never panic, and never unseal without the key.
// Seeds: testdata/fuzz/FuzzUnseal.
func FuzzUnseal(f *testing.F) {
	kp, _ := testKeys(f)
	keys := []*rsa.PrivateKey{kp.priv}
	f.Fuzz(func(t *testing.T, data []byte) {
		sealed, err := ReadSealedSecrets(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, ss := range sealed {
			sec, err := Unseal(ss, keys)
			if err == nil && len(ss.Spec.EncryptedData) > 0 && len(sec.Data) == 0 {
				t.Errorf("unsealed without data")
			}
			if err != nil && errors.Is(err, ErrDecrypt) && bytes.Contains([]byte(err.Error()), []byte(canary)) {
				t.Errorf("error quotes input")
			}
		}
	})
}

// FuzzHybridDecrypt: arbitrary ciphertexts never panic and never decrypt.
func FuzzHybridDecrypt(f *testing.F) {
	kp, _ := testKeys(f)
	ct, err := HybridEncrypt(nil, kp.cert.Key, []byte("value"), []byte("ns/name"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct, []byte("ns/name"))
	f.Add([]byte{0, 1}, []byte(""))
	f.Fuzz(func(t *testing.T, data, label []byte) {
		plain, err := HybridDecrypt([]*rsa.PrivateKey{kp.priv}, data, label)
		if err == nil && (!bytes.Equal(data, ct) || string(label) != "ns/name") && string(plain) != "value" {
			t.Errorf("decrypted a forged ciphertext")
		}
	})
}
