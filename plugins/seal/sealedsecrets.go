package seal

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster/lite"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/sealing"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// certificate loads and checks the controller's certificate.
func (o *Options) certificate(ctx context.Context) (*sealing.Certificate, error) {
	var c *sealing.Certificate
	var err error
	if o.Cert != "" {
		c, err = readCertificate(ctx, o.requestTimeout, o.Cert)
	} else {
		cfg, cerr := o.env.ConfigFlags.ToRESTConfig()
		if cerr != nil {
			return nil, fmt.Errorf("no --cert given and no cluster to fetch it from (%w); pass --cert, or --age for sops", cerr)
		}
		cl, cerr := lite.New(cfg)
		if cerr != nil {
			return nil, cerr
		}
		c, err = sealing.FetchCertificate(ctx, cl, o.ControllerNamespace, o.ControllerName)
		if err != nil && !o.formatGiven {
			// Keep the hint: the user may have meant another format. Not
			// wrapped, so the message is not replaced by kubectl's wording.
			return nil, fmt.Errorf("no --cert, --age or matching .sops.yaml rule, and the sealed-secrets controller's certificate could not be fetched from the cluster (%s); pass --cert FILE|URL, --age RECIPIENT or --format", err.Error())
		}
	}
	if err != nil {
		return nil, err
	}
	if err := c.CheckValidity(o.now(), o.AllowExpiredCert); err != nil {
		return nil, err
	}
	return c, nil
}

func (o *Options) sealOptions() sealing.SealOptions {
	return sealing.SealOptions{Scope: o.scope, Namespace: o.namespace, EnforceNamespace: o.enforceNamespace, AllowEmptyData: o.AllowEmptyData}
}

func (o *Options) runSealedSecrets(ctx context.Context) ([]byte, error) {
	cert, err := o.certificate(ctx)
	if err != nil {
		return nil, err
	}
	if o.Raw {
		scope := sealing.Strict
		if o.scope != nil {
			scope = *o.scope
		}
		var value []byte
		for _, v := range o.secret.Data {
			value = v
		}
		raw, err := sealing.SealRaw(cert.Key, scope, o.namespace, o.Name, value, nil)
		if err != nil {
			return nil, cli.Usagef("--raw: %v", err)
		}
		return []byte(raw + "\n"), nil
	}
	secrets, err := o.secrets()
	if err != nil {
		return nil, err
	}
	// Each Secret is sealed independently (crypto/rand is safe for
	// concurrent use): spread them over the CPUs, keeping input order.
	// Ctrl-C stops handing out work; what is sealed is dropped.
	objs := make([]any, len(secrets))
	errs := make([]error, len(secrets))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range secrets {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			objs[i], errs[i] = sealing.Seal(secrets[i], cert.Key, o.sealOptions())
			return nil
		})
	}
	_ = g.Wait() // every error is in errs, reported in input order below
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return marshal(o.Output.Format, objs...)
}

func (o *Options) runMergeInto(ctx context.Context) error {
	existing, err := os.ReadFile(o.MergeInto)
	if err != nil {
		return fmt.Errorf("reading --merge-into %w", pathErr(err))
	}
	secrets, err := o.secrets()
	if err != nil {
		return err
	}
	if len(secrets) != 1 {
		return cli.Usagef("--merge-into takes exactly one Secret, not %d", len(secrets))
	}
	cert, err := o.certificate(ctx)
	if err != nil {
		return err
	}
	cur, err := sealing.ReadSealedSecrets(bytes.NewReader(existing))
	if err != nil || len(cur) != 1 {
		return fmt.Errorf("--merge-into %s must hold exactly one SealedSecret", o.MergeInto)
	}
	// The new keys take the existing SealedSecret's identity and scope.
	s := secrets[0].DeepCopy()
	if s.Name == "" {
		s.Name = cur[0].Metadata.Name
	}
	if s.Namespace == "" {
		s.Namespace = cur[0].Metadata.Namespace
	}
	opts := o.sealOptions()
	if opts.Scope == nil {
		sc := cur[0].Scope()
		opts.Scope = &sc
	}
	ss, err := sealing.Seal(s, cert.Key, opts)
	if err != nil {
		return err
	}
	merged, err := sealing.MergeIntoFile(existing, ss)
	if err != nil {
		return fmt.Errorf("--merge-into %s: %w", o.MergeInto, err)
	}
	if err := (output{file: o.MergeInto, inPlace: true}).write(ctx, merged); err != nil {
		return err
	}
	fmt.Fprintf(o.env.Streams.ErrOut, "merged %s into %s\n", strings.Join(slices.Sorted(maps.Keys(ss.Spec.EncryptedData)), ", "), o.MergeInto)
	return nil
}
