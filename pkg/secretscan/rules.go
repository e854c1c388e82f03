package secretscan

// Rule describes one rule of the scanner, for reports that list their
// rules (SARIF).
type Rule struct {
	ID       string
	Severity string
	// Summary says what the rule finds, in one line.
	Summary string
	// Help says how to fix a finding.
	Help string
}

const sealHelp = "Keep secrets out of Git in plaintext: encrypt the Secret (kubectl gitops seal, SOPS) or " +
	"replace it by an ExternalSecret, and reference it from the workload. A value that is not a secret " +
	"(a placeholder) can be allowed in .gitops/scan-allow.yaml."

// Rules lists every rule the scanner reports.
var Rules = []Rule{
	{RulePlaintextSecret, SeverityError, "A Secret with data or stringData that is not SOPS-encrypted", sealHelp},
	{RuleSecretGeneratorLiteral, SeverityError, "A kustomize secretGenerator with literals", sealHelp},
	{RuleSecretGeneratorEnv, SeverityError, "A plaintext value in an env file a kustomize secretGenerator reads", sealHelp + " Or SOPS-encrypt the env file."},
	{RuleSecretGeneratorFile, SeverityError, "A plaintext file a kustomize secretGenerator reads", sealHelp + " Or SOPS-encrypt the file."},
	{RuleValuesSecret, SeverityError, "A secret-like key (password, token, apiKey…) with a plaintext value in Helm values or other non-Kubernetes YAML",
		"Move the value into an encrypted Secret or an ExternalSecret and point the chart at it (existingSecret, valuesFrom with kind Secret)."},
	{RulePrivateKey, SeverityError, "A PEM private key in a value", sealHelp + " Rotate the key: it is in the Git history."},
	{RuleAWSAccessKey, SeverityError, "An AWS access key id in a value", sealHelp + " Rotate the key: it is in the Git history."},
	{RuleGitHubToken, SeverityError, "A GitHub token in a value", sealHelp + " Revoke the token: it is in the Git history."},
	{RuleSlackToken, SeverityError, "A Slack token in a value", sealHelp + " Revoke the token: it is in the Git history."},
	{RuleSecretGeneratorMissing, SeverityWarning, "A secretGenerator names a file that is not there (not checked)",
		"Add the file, or remove it from the secretGenerator."},
	{RuleSecretGeneratorOutside, SeverityWarning, "A secretGenerator names a file outside the repository (not checked)",
		"Keep the files a secretGenerator reads inside the repository."},
}
