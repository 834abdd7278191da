// Package api is the HTTP interface of elicense, on gin (the only importer of
// gin): routes, authentication, request and response types, and the one table
// that maps domain errors to HTTP statuses (errors.go).
//
// New builds an http.Handler from plain dependencies (Deps), so callers and
// tests never see gin. Handlers bind, call the domain and render, nothing more.
// The interfaces the handlers consume (Licenses, Files, QRAuthority, Templates,
// IdentityProvider, Batches) are declared here and implemented elsewhere.
//
// # Basics
//
// Principals call with an API key (Authorization: Bearer elk_<id>_<secret>, or
// X-API-Key), stored only as its SM3 digest (NewKey, KeyHash). A key has one
// role: issuer (a department: issues and manages its own licenses), verifier (a
// user unit: verifies and reads licenses of the types it was granted), clerk (a
// counter clerk: verifies and reads any license) or admin (the data authority:
// catalog and keys). Holders log in through an IdentityProvider —
// GovAppIdentity checks SM2-signed assertions of the government app,
// DevIdentity is for demonstrations only — and get an HttpOnly, SameSite=Strict
// session cookie. Reads and verifications by user units, clerks and admins need
// a 用证事由 (purpose) and append a use record (catalog.UseRecord) that holders
// and issuing departments can list. docs/api.md has the whole matrix and curl
// examples; the OpenAPI document (openapi.yaml, served as
// /api/v1/openapi.json) describes every route and is checked against every
// request and response of the API tests.
//
// # Web pages
//
// The same handler serves server-rendered pages (web*.go, templates and
// assets embedded from web/): the public verification page behind every
// printed QR code (/V/<digits>), the counter clerk page (/counter), the
// holder pages (/my) and the issuer console (/console). Clerks and
// departments exchange their API key once for a page session; holders log in
// through the IdentityProvider. Pages call the same domain functions as the
// JSON routes (checkQR, dynamicQR, record, Licenses), so a page verification
// writes the same use record and consumes the same dynamic-QR ticket.
//
// # Caveats
//
//   - Holder and page sessions, rate-limit buckets, development login codes and
//     dynamic-QR tickets live in memory: a restart logs every holder out, and
//     several server processes do not share them (put the tickets in a shared
//     store before running more than one). A dynamic code issued before this
//     handler was made fails its ticket check (its earlier uses are unknown);
//     the holder shows a fresh one.
//   - The status list is rebuilt after a status change made through this
//     handler, and otherwise at most Limits.StatusTTL old (changes made by
//     other processes, expiry).
//   - The QR key list follows the catalog only through Deps.TypesChanged:
//     without it, a license type published later gets QR codes after a
//     restart.
//   - Holders are natural persons identified by their resident ID number;
//     organisations (USCC holders) have no holder login yet.
//   - /metrics is unauthenticated and carries no personal data; a server
//     that should not offer it on its public address sets
//     Deps.MetricsApart and serves NewHandlers' metrics handler on an
//     internal one (elicense serve: metrics_addr).
package api
