package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus collectors of one handler, in a registry of
// their own so that several handlers (tests) can live in one process.
type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	issued        *prometheus.CounterVec
	verifications *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "elicense_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "elicense_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "elicense_licenses_issued_total", Help: "Licenses issued or updated through the API, by license type.",
		}, []string{"type"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "elicense_verifications_total", Help: "Verifications by kind (file, identifier, qr, claims) and result reason.",
		}, []string{"kind", "result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.issued, m.verifications,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
