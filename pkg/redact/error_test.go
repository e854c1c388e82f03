package redact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestMaskError: the message is masked, the chain still unwraps to what
// it wrapped (a cancelled context), and an error mask leaves alone is
// returned as it is.
func TestMaskError(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	mask := func(s string) string { return strings.ReplaceAll(s, canary, Mask) }
	err := fmt.Errorf("GET https://u:%s@h/x: %w", canary, context.Canceled)
	got := MaskError(err, mask)
	if got.Error() != "GET https://u:***@h/x: context canceled" {
		t.Errorf("Error() = %q", got.Error())
	}
	if !errors.Is(got, context.Canceled) {
		t.Error("the masked error does not unwrap to context.Canceled")
	}
	plain := errors.New("nothing secret")
	if got := MaskError(plain, mask); got.Error() != plain.Error() || errors.Unwrap(got) != nil {
		t.Error("an error with nothing to mask was wrapped")
	}
	if MaskError(nil, mask) != nil {
		t.Error("nil was wrapped")
	}
}
