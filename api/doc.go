// Package api is the HTTP interface of elicense, on gin (the only importer of
// gin): routes, authentication, request and response types, and the one table
// that maps domain errors to HTTP statuses.
//
// New builds an http.Handler from plain dependencies, so callers and tests
// never see gin. Handlers bind, call the domain and render, nothing more.
//
// # Caveats
//
// Only health endpoints exist so far: /healthz answers 200 while the process
// runs; /readyz answers 200 when the store can be read, 503 otherwise.
package api
