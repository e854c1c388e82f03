package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FormatError renders err for the terminal in kubectl's wording:
// "Error from server (Reason): …" for API errors, the connection-refused hint
// for an unreachable server, "error: …" for anything else. Unlike kubectl's
// cmdutil.StandardErrorMessage it looks through wrapped errors, so engines can
// wrap freely with %w.
func FormatError(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		s := status.Status()
		switch {
		case s.Reason == metav1.StatusReasonUnauthorized:
			return fmt.Sprintf("error: You must be logged in to the server (%s)", s.Message)
		case s.Reason != "":
			return fmt.Sprintf("Error from server (%s): %s", s.Reason, err.Error())
		default:
			return fmt.Sprintf("Error from server: %s", err.Error())
		}
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if errors.Is(uerr.Err, syscall.ECONNREFUSED) || strings.Contains(uerr.Err.Error(), "connection refused") {
			host := uerr.URL
			if u, perr := url.Parse(uerr.URL); perr == nil && u.Host != "" {
				host = u.Host
			}
			return fmt.Sprintf("The connection to the server %s was refused - did you specify the right host or port?", host)
		}
		return fmt.Sprintf("Unable to connect to the server: %v", uerr.Err)
	}
	return "error: " + err.Error()
}
