package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// TestConfigFlagsAsKubectl checks the suite's kubeconfig flags against
// cli-runtime's, which they replace (so that no plugin links discovery and
// client-go's scheme): the same flags with the same shorthands, defaults and
// help, and, for one set of flag values, the same namespace, raw config and
// REST config (server, TLS, credentials, impersonation, timeout).
func TestConfigFlagsAsKubectl(t *testing.T) {
	t.Setenv("KUBECACHEDIR", "")
	ours, theirs := pflag.NewFlagSet("ours", pflag.ContinueOnError), pflag.NewFlagSet("theirs", pflag.ContinueOnError)
	of, tf := NewConfigFlags(), genericclioptions.NewConfigFlags(true)
	of.AddFlags(ours)
	tf.AddFlags(theirs)
	describe := func(fs *pflag.FlagSet) map[string][4]string {
		m := map[string][4]string{}
		fs.VisitAll(func(f *pflag.Flag) { m[f.Name] = [4]string{f.Shorthand, f.DefValue, f.Usage, f.Value.Type()} })
		return m
	}
	if o, th := describe(ours), describe(theirs); !reflect.DeepEqual(o, th) {
		for n, d := range th {
			if o[n] != d {
				t.Errorf("--%s: ours %q, cli-runtime's %q", n, o[n], d)
			}
		}
		for n := range o {
			if _, ok := th[n]; !ok {
				t.Errorf("--%s: ours only", n)
			}
		}
	}

	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://a.example:6443", insecure-skip-tls-verify: true}
- name: b
  cluster: {server: "https://b.example:6443"}
contexts:
- name: a
  context: {cluster: a, user: ua, namespace: from-context}
- name: b
  context: {cluster: b, user: ub, namespace: other}
current-context: a
users:
- name: ua
  user: {token: token-a}
- name: ub
  user: {token: token-b}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--kubeconfig", kubeconfig, "--context", "b", "--user", "ua", "-n", "given",
		"--request-timeout", "9s", "--as", "jane", "--as-group", "g1", "--as-group", "g2", "--as-user-extra", "k=v",
		"--tls-server-name", "tls.example", "--proxy-url", "http://proxy.example:3128", "--disable-compression"}
	if err := ours.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := theirs.Parse(args); err != nil {
		t.Fatal(err)
	}
	ons, oexp, oerr := of.ToRawKubeConfigLoader().Namespace()
	tns, texp, terr := tf.ToRawKubeConfigLoader().Namespace()
	if ons != tns || oexp != texp || (oerr == nil) != (terr == nil) || ons != "given" {
		t.Errorf("namespace: ours %q %v %v, cli-runtime's %q %v %v", ons, oexp, oerr, tns, texp, terr)
	}
	oraw, err := of.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		t.Fatal(err)
	}
	traw, err := tf.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(oraw, traw) {
		t.Errorf("raw config differs:\nours %+v\ncli-runtime's %+v", oraw, traw)
	}
	ocfg, oerr := of.ToRESTConfig()
	if oerr != nil {
		t.Fatal(oerr)
	}
	tcfg, terr := tf.ToRESTConfig()
	if terr != nil {
		t.Fatal(terr)
	}
	// Functions (the proxy, exec providers) cannot be compared: compare
	// what they yield, then the rest.
	if ocfg.Proxy == nil || tcfg.Proxy == nil {
		t.Errorf("proxy: ours %v, cli-runtime's %v", ocfg.Proxy != nil, tcfg.Proxy != nil)
	}
	ocfg.Proxy, tcfg.Proxy = nil, nil
	if !reflect.DeepEqual(ocfg, tcfg) {
		t.Errorf("REST config differs:\nours %+v\ncli-runtime's %+v", ocfg, tcfg)
	}
	if ocfg.Host != "https://b.example:6443" || ocfg.BearerToken != "token-a" || ocfg.Impersonate.UserName != "jane" || ocfg.Timeout.String() != "9s" {
		t.Errorf("REST config: host %s, token %q, as %q, timeout %v", ocfg.Host, ocfg.BearerToken, ocfg.Impersonate.UserName, ocfg.Timeout)
	}

	// No kubeconfig at all: kubectl's defaults (localhost:8080).
	t.Setenv("KUBECONFIG", filepath.Join(dir, "missing"))
	t.Setenv("HOME", dir)
	ocfg, oerr = NewConfigFlags().ToRESTConfig()
	tcfg, terr = genericclioptions.NewConfigFlags(true).ToRESTConfig()
	if (oerr == nil) != (terr == nil) || (oerr != nil && oerr.Error() != terr.Error()) || (oerr == nil && ocfg.Host != tcfg.Host) {
		t.Errorf("no kubeconfig: ours %v %v, cli-runtime's %v %v", ocfg, oerr, tcfg, terr)
	}
}
