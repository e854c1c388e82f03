package redact

// MaskError returns err with its message passed through mask (a URL
// redactor, a Sweeper's String): an error whose Error() is
// mask(err.Error()) and which unwraps to err, so that errors.Is and
// errors.As still find a cancelled context or an API status in it. The
// unwrapped errors keep their own, unmasked text: print the result, never
// what it wraps. When mask changes nothing, err itself is returned; nil
// stays nil.
func MaskError(err error, mask func(string) string) error {
	if err == nil {
		return nil
	}
	msg := mask(err.Error())
	if msg == err.Error() {
		return err
	}
	return &maskedError{msg: msg, err: err}
}

// maskedError is an error whose message was masked (MaskError).
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
