package gitopsapi

import (
	"strings"
	"testing"
)

// TestOperatorMessagesWithoutCredentials: the operators' own messages (an
// Argo CD condition, a failed sync, a Flux Ready condition) and the
// destination server are shown in reports; credentials in URLs they quote
// are not.
func TestOperatorMessagesWithoutCredentials(t *testing.T) {
	const secret = "tok3n-Xy9"
	tests := []struct {
		name string
		src  func(t *testing.T) *Source
		want string // in the message or unsupported reason
	}{
		{
			name: "Argo CD condition",
			src: func(t *testing.T) *Source {
				return ArgoSource(obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  destination: {server: https://kubernetes.default.svc, namespace: shop}
  source: {repoURL: https://bot:`+secret+`@git.example.com/fleet.git, path: apps}
status:
  conditions:
  - type: ComparisonError
    message: 'failed to fetch https://bot:`+secret+`@git.example.com/fleet.git: connection refused'
`), argoDefaults)
			},
			want: "https://git.example.com/fleet.git",
		},
		{
			name: "Argo CD failed operation",
			src: func(t *testing.T) *Source {
				return ArgoSource(obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  destination: {server: https://kubernetes.default.svc}
  source: {repoURL: https://git.example.com/fleet.git, path: apps}
status:
  operationState: {phase: Failed, message: 'git fetch https://x-access-token:`+secret+`@git.example.com/fleet.git failed'}
`), argoDefaults)
			},
			want: "https://git.example.com/fleet.git",
		},
		{
			name: "Argo CD destination server",
			src: func(t *testing.T) *Source {
				return ArgoSource(obj(t, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  destination: {server: 'https://admin:`+secret+`@10.0.0.9:6443'}
  source: {repoURL: https://git.example.com/fleet.git, path: apps}
`), argoDefaults)
			},
			want: "https://10.0.0.9:6443",
		},
		{
			name: "Flux Ready condition",
			src: func(t *testing.T) *Source {
				return FluxSource(obj(t, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  path: ./apps
  sourceRef: {kind: GitRepository, name: fleet}
status:
  conditions:
  - type: Ready
    status: "False"
    message: 'source not ready: https://bot:`+secret+`@git.example.com/fleet.git: authentication required'
`), obj(t, `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec: {url: https://git.example.com/fleet.git}
`))
			},
			want: "https://git.example.com/fleet.git",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.src(t)
			shown := s.Status.Message + "\n" + s.Unsupported + "\n" + s.Problem + "\n" + strings.Join(s.Warnings, "\n")
			if strings.Contains(shown, secret) {
				t.Errorf("credential shown:\n%s", shown)
			}
			if !strings.Contains(shown, tt.want) {
				t.Errorf("want %q in:\n%s", tt.want, shown)
			}
		})
	}
}
