package secretscan

// IsSecretKey reports whether a key (of Helm values, an env var's name)
// names a secret value, by the rule the scanner applies: password, token,
// apiKey, clientSecret… alone or as a suffix (dbPassword, DB_PASSWORD), but
// not existingSecret, imagePullSecret or tlsSecret, which name a Secret. It
// is exported so that what the scanner flags and what drift masks are one
// definition.
func IsSecretKey(k string) bool { return isSecretKey(k) }
