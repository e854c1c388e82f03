// Package compare provides the drift engine: it compares desired objects
// (from Git) with the live cluster and reports, per object, whether it is
// unchanged, modified, missing, extraneous or in error, with every drifted
// field attributed to the managers that own it.
//
// Two modes: ModeServer asks the API server what applying Git would change
// (a server-side apply dry-run with the owning agent's field manager);
// ModeLocal sends no write request at all and compares the fields Git sets,
// using managedFields for the rest. In both, fields another manager added
// (which server-side apply keeps, so `kubectl diff` cannot see them) are
// reported too.
//
// The engine returns data; rendering is the plugin's job. Secret values are
// masked in the returned report unless Options.ShowSecrets is set. It must
// not import cobra or the plugins; the cluster is reached only through
// pkg/cluster's interfaces.
package compare
