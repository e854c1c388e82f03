package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
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

	// Each connection flag alone, on top of the kubeconfig: ours yield
	// what cli-runtime's yield, and each changes something (a flag our
	// port dropped would leave the kubeconfig's value).
	files := map[string]string{}
	for _, f := range []string{"ca.crt", "c.crt", "c.key", "other.crt", "other.key"} {
		files[f] = filepath.Join(dir, f)
		if err := os.WriteFile(files[f], []byte("not read: only the path reaches the REST config"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	certKubeconfig := filepath.Join(dir, "cert-config")
	if err := os.WriteFile(certKubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: b
  cluster: {server: "https://b.example:6443"}
contexts:
- name: b
  context: {cluster: b, user: uc}
current-context: b
users:
- name: uc
  user: {client-certificate: `+files["c.crt"]+`, client-key: `+files["c.key"]+`}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		flag       string
		kubeconfig string
		args       []string
	}{
		{"server", kubeconfig, []string{"--server", "https://c.example:7443"}},
		{"server shorthand", kubeconfig, []string{"-s", "https://c.example:7443"}},
		{"token", kubeconfig, []string{"--token", "token-flag"}},
		{"certificate-authority", kubeconfig, []string{"--context", "b", "--certificate-authority", files["ca.crt"]}},
		{"client-certificate", certKubeconfig, []string{"--client-certificate", files["other.crt"]}},
		{"client-key", certKubeconfig, []string{"--client-key", files["other.key"]}},
		{"insecure-skip-tls-verify", kubeconfig, []string{"--context", "b", "--insecure-skip-tls-verify"}},
		{"tls-server-name", kubeconfig, []string{"--tls-server-name", "tls.example"}},
		{"as", kubeconfig, []string{"--as", "jane"}},
		{"as-group", kubeconfig, []string{"--as", "jane", "--as-group", "g1", "--as-group", "g2"}},
		{"request-timeout", kubeconfig, []string{"--request-timeout", "9s"}},
	} {
		t.Run(tt.flag, func(t *testing.T) {
			base := []string{"--kubeconfig", tt.kubeconfig}
			if tt.flag == "as-group" {
				base = append(base, "--as", "jane") // a group needs a user
			}
			if tt.flag == "certificate-authority" || tt.flag == "insecure-skip-tls-verify" {
				base = append(base, "--context", "b")
			}
			before := restConfigs(t, base)[1]
			got := restConfigs(t, append([]string{"--kubeconfig", tt.kubeconfig}, tt.args...))
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Errorf("REST config differs:\nours %+v\ncli-runtime's %+v", got[0], got[1])
			}
			if reflect.DeepEqual(got[1], before) {
				t.Errorf("the flag changes nothing in cli-runtime's REST config: a row that cannot fail")
			}
		})
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

// restConfigs are the REST configs (the proxy function left out: it is
// checked to be set on both or neither) of our flags and of cli-runtime's, parsed from
// args.
func restConfigs(t *testing.T, args []string) [2]*rest.Config {
	t.Helper()
	ours, theirs := pflag.NewFlagSet("ours", pflag.ContinueOnError), pflag.NewFlagSet("theirs", pflag.ContinueOnError)
	of, tf := NewConfigFlags(), genericclioptions.NewConfigFlags(true)
	of.AddFlags(ours)
	tf.AddFlags(theirs)
	var out [2]*rest.Config
	var proxy [2]bool
	for i, p := range []struct {
		fs  *pflag.FlagSet
		cfg func() (*rest.Config, error)
	}{{ours, of.ToRESTConfig}, {theirs, tf.ToRESTConfig}} {
		if err := p.fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		cfg, err := p.cfg()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		proxy[i] = cfg.Proxy != nil
		cfg.Proxy = nil
		out[i] = cfg
	}
	if proxy[0] != proxy[1] {
		t.Errorf("%v: proxy function: ours %v, cli-runtime's %v", args, proxy[0], proxy[1])
	}
	return out
}
