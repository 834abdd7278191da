package api

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
	"elicense/signer"
	"elicense/signer/qrtoken"
	"elicense/templates"
)

// Licenses is the license service the API drives; *catalog.Service
// implements it. Errors are those documented on catalog.Service.
type Licenses interface {
	Issue(ctx context.Context, req catalog.IssueRequest) (*catalog.License, error)
	Get(ctx context.Context, id string) (*catalog.License, error)
	Update(ctx context.Context, id string, values map[string]string, a catalog.Actor, reason string) (*catalog.License, error)
	Suspend(ctx context.Context, id string, a catalog.Actor, reason string) (*catalog.License, error)
	Resume(ctx context.Context, id string, a catalog.Actor, reason string) (*catalog.License, error)
	Revoke(ctx context.Context, id string, a catalog.Actor, reason string) (*catalog.License, error)
	// TypeByCode returns catalog.ErrNotFound for an unknown type code.
	TypeByCode(ctx context.Context, code string) (*catalog.LicenseType, error)
	// CheckClaim answers 核验 by claimed data; only store failures are errors.
	CheckClaim(ctx context.Context, c catalog.Claim) (catalog.ClaimResult, error)
}

// Files returns sealed license files; *filestore.Dir implements it. Get
// returns an error wrapping catalog.ErrNotFound for an unknown identifier.
type Files interface {
	Get(id string) ([]byte, error)
}

// QRAuthority makes dynamic QR tokens and the signed key and status lists;
// *qrtoken.Authority implements it.
type QRAuthority interface {
	DynamicText(l *catalog.License, now time.Time, lifetime time.Duration) (string, *qrtoken.Claims, error)
	KeyList() *qrtoken.KeyList
	KeyListDocument() []byte
	BuildStatusList(ctx context.Context, st catalog.Store, now time.Time) ([]byte, *qrtoken.StatusList, error)
}

// Templates tells whether a template exists; *templates.Engine implements it.
type Templates interface {
	Template(key string) (*templates.Template, bool)
}

// Limits bound what one caller may send and how often.
type Limits struct {
	MaxBody   int64 // JSON request bodies, bytes (default 1 MiB)
	MaxUpload int64 // uploaded files to verify, bytes (default 16 MiB)
	// MaxBatchUpload is the largest batch source file, bytes (default
	// 512 MiB); it is streamed to disk, never held in memory.
	MaxBatchUpload int64
	KeyRate        float64       // requests per second per API key or holder session (default 20)
	KeyBurst       int           // (default 40)
	PublicRate     float64       // requests per second per client IP on public verification (default 1)
	PublicBurst    int           // (default 10)
	SessionTTL     time.Duration // holder session lifetime (default 30 min)
	StatusTTL      time.Duration // the status list is rebuilt at least this often (default 10 min)
}

func (l Limits) withDefaults() Limits {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxBody <= 0 {
		l.MaxBody = 1 << 20
	}
	if l.MaxUpload <= 0 {
		l.MaxUpload = 16 << 20
	}
	if l.MaxBatchUpload <= 0 {
		l.MaxBatchUpload = 512 << 20
	}
	def(&l.KeyRate, 20)
	def(&l.PublicRate, 1)
	if l.KeyBurst <= 0 {
		l.KeyBurst = 40
	}
	if l.PublicBurst <= 0 {
		l.PublicBurst = 10
	}
	if l.SessionTTL <= 0 {
		l.SessionTTL = 30 * time.Minute
	}
	if l.StatusTTL <= 0 {
		l.StatusTTL = 10 * time.Minute
	}
	return l
}

// Deps are what the HTTP layer needs. Store and Logger are required; without
// Licenses, Access, Files, QR or Roots the endpoints that need them answer 503
// (only /healthz and /readyz then work).
type Deps struct {
	Store     catalog.Store
	Access    catalog.AccessStore
	Licenses  Licenses
	Files     Files
	QR        QRAuthority
	Templates Templates
	// Roots are the trusted roots for verifying uploaded files.
	Roots *signer.CertPool
	// Identity logs holders in; nil disables holder login (404).
	Identity IdentityProvider
	Logger   *slog.Logger
	Version  string
	Limits   Limits
	// TrustedProxies may set X-Forwarded-For; empty: the peer address is the client.
	TrustedProxies []string
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
	// Batches runs batch issuing jobs; nil disables /api/v1/batches (404).
	Batches Batches
	// TypesChanged, when set, is called after a license type is created,
	// changed or published, so that what depends on the catalog (the QR
	// key list's allowed types) follows without a restart. An error is
	// logged; the type stays stored.
	TypesChanged func(context.Context) error
	// MetricsApart leaves /metrics out of the service's routes, for a
	// server that offers NewHandlers' metrics handler on an internal
	// address only.
	MetricsApart bool
	// Backup, when set, writes a backup of the service's data to w
	// (GET /api/v1/backup, admin); nil: 404.
	Backup func(ctx context.Context, w io.Writer) error
}

// server holds the wired dependencies of the handlers.
type server struct {
	Deps
	lim      Limits
	metrics  *metrics
	sessions *sessions
	limiter  *limiters
	lists    *listCache
	tickets  *qrtoken.MemoryTicketCache
	// ticketsSince is when tickets began: dynamic codes issued before
	// (by an earlier run of the server) are refused, as their uses are
	// not in memory.
	ticketsSince time.Time
	web          *webUI
}

// New returns the HTTP handler of the service.
func New(d Deps) http.Handler {
	h, _ := NewHandlers(d)
	return h
}

// NewHandlers returns the HTTP handler of the service and the handler of
// its Prometheus metrics (also at /metrics of the first unless
// d.MetricsApart).
func NewHandlers(d Deps) (service, metrics http.Handler) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &server{Deps: d, lim: d.Limits.withDefaults()}
	s.metrics = newMetrics()
	s.sessions = newSessions(s.lim.SessionTTL, d.Now, d.Rand)
	s.limiter = newLimiters()
	s.lists = &listCache{}
	s.tickets = qrtoken.NewMemoryTicketCache(1 << 16)
	s.ticketsSince = d.Now()

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	_ = r.SetTrustedProxies(d.TrustedProxies)
	r.Use(s.requestID, s.recoverer, s.observe, s.authenticate)
	r.NoRoute(s.noRoute)
	r.NoMethod(func(c *gin.Context) { s.fail(c, errMethod) })

	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok", "version": d.Version})
	})
	r.GET("/readyz", s.readyz)
	if !d.MetricsApart {
		r.GET("/metrics", gin.WrapH(s.metrics.handler()))
	}

	v := r.Group("/api/v1")
	v.GET("/openapi.json", s.openAPI)

	// License catalog: public reads, admin writes.
	v.GET("/types", s.listTypes)
	v.GET("/types/:key", s.getType)
	v.GET("/types/:key/batch-template", s.getBatchTemplate)
	v.POST("/types", s.allow(catalog.RoleAdmin), s.createType)
	v.PUT("/types/:key", s.allow(catalog.RoleAdmin), s.updateType)
	v.POST("/types/:key/publish", s.allow(catalog.RoleAdmin), s.publishType)

	// API keys (admin).
	v.GET("/keys", s.allow(catalog.RoleAdmin), s.listKeys)
	if d.Backup != nil {
		v.GET("/backup", s.allow(catalog.RoleAdmin), s.backup)
	}
	v.POST("/keys", s.allow(catalog.RoleAdmin), s.createKey)
	v.DELETE("/keys/:id", s.allow(catalog.RoleAdmin), s.revokeKey)

	// Licenses.
	readers := []catalog.Role{catalog.RoleIssuer, catalog.RoleVerifier, catalog.RoleClerk, catalog.RoleAdmin}
	v.POST("/licenses", s.allow(catalog.RoleIssuer), s.issue)
	v.GET("/licenses", s.allow(readers...), s.listLicenses)
	v.GET("/licenses/:id", s.allow(readers...), s.getLicense)
	v.GET("/licenses/:id/pdf", s.allow(readers...), s.downloadLicense)
	v.PUT("/licenses/:id", s.allow(catalog.RoleIssuer), s.updateLicense)
	v.POST("/licenses/:id/suspend", s.allow(catalog.RoleIssuer), s.lifecycle(catalog.ActionSuspend))
	v.POST("/licenses/:id/resume", s.allow(catalog.RoleIssuer), s.lifecycle(catalog.ActionResume))
	v.POST("/licenses/:id/revoke", s.allow(catalog.RoleIssuer), s.lifecycle(catalog.ActionRevoke))
	v.GET("/uses", s.allow(catalog.RoleIssuer, catalog.RoleAdmin), s.listUses)

	// Verification by user units and clerks, and the rate-limited public variant.
	verifiers := []catalog.Role{catalog.RoleVerifier, catalog.RoleClerk}
	v.POST("/verify/file", s.allow(verifiers...), s.verifyFile)
	v.POST("/verify/identifier", s.allow(verifiers...), s.verifyIdentifier)
	v.POST("/verify/qr", s.allow(verifiers...), s.verifyQR)
	v.POST("/verify/claims", s.allow(verifiers...), s.verifyClaims)
	v.POST("/public/verify/file", s.public, s.verifyFile)
	v.POST("/public/verify/qr", s.public, s.verifyQR)

	// QR key list and status list (public).
	v.GET("/qr/keys", s.keyList)
	v.GET("/qr/status", s.statusList)

	// Holders.
	v.POST("/holder/login/code", s.public, s.loginCode)
	v.POST("/holder/login", s.public, s.login)
	v.POST("/holder/logout", s.logout)
	h := v.Group("/holder", s.holderOnly)
	h.GET("/licenses", s.holderLicenses)
	h.GET("/licenses/:id", s.holderLicense)
	h.GET("/licenses/:id/pdf", s.holderDownload)
	h.POST("/licenses/:id/qr", s.holderQR)
	h.GET("/uses", s.holderUses)

	// Batch issuing (departments).
	v.POST("/batches", s.allow(catalog.RoleIssuer), s.startBatch)
	v.POST("/batches/check", s.allow(catalog.RoleIssuer), s.checkBatch)
	v.GET("/batches/:id", s.allow(catalog.RoleIssuer), s.getBatch)
	v.GET("/batches/:id/report", s.allow(catalog.RoleIssuer), s.getBatchReport)
	v.GET("/batches/:id/manifest", s.allow(catalog.RoleIssuer), s.getBatchManifest)

	// Web pages (api/web.go).
	s.webRoutes(r)
	return r, s.metrics.handler()
}

func (s *server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.Store.ListDepartments(ctx); err != nil {
		s.Logger.Error("readyz: store", "err", err, "requestId", requestIDOf(c))
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// backup streams a backup of the data (tar) to the data authority.
func (s *server) backup(c *gin.Context) {
	name := "elicense-backup-" + s.Now().UTC().Format("20060102T150405Z") + ".tar"
	c.Header("Content-Type", "application/x-tar")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	// A backup of many license files outlasts the server's write timeout.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	c.Status(http.StatusOK)
	if err := s.Backup(c.Request.Context(), c.Writer); err != nil {
		// The tar is cut short without its backup.json: a restore refuses it.
		s.Logger.Error("backup failed; the response is incomplete", "requestId", requestIDOf(c), "err", err)
	}
}
