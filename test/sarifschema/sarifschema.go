// Package sarifschema provides, for tests, validation of a SARIF log against
// the SARIF 2.1.0 JSON schema (vendored in testdata, see its README).
package sarifschema

import (
	"bytes"
	_ "embed"
	"fmt"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/sarif-schema-2.1.0.json
var schemaJSON []byte

// schemaID is the schema's own id.
const schemaID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// Check returns why data is not a valid SARIF 2.1.0 log, or nil.
func Check(data []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return fmt.Errorf("reading the schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaID, doc); err != nil {
		return fmt.Errorf("adding the schema: %w", err)
	}
	sch, err := c.Compile(schemaID)
	if err != nil {
		return fmt.Errorf("compiling the schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(inst)
}

// Validate fails t when data is not a valid SARIF 2.1.0 log.
func Validate(t testing.TB, data []byte) {
	t.Helper()
	if err := Check(data); err != nil {
		t.Fatalf("not a valid SARIF 2.1.0 log: %v\n%s", err, data)
	}
}
