package serve

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// metrics are the server's Prometheus series, in a registry of its own so that several servers
// in one process (tests) do not collide.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	batchSize *prometheus.HistogramVec
	inflight  prometheus.Gauge
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facenet_serve_requests_total", Help: "Requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "facenet_serve_request_duration_seconds", Help: "Request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"route"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "facenet_serve_batch_size", Help: "Rows per model run, by model.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
		}, []string{"model"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "facenet_serve_in_flight_requests", Help: "HTTP requests being served.",
		}),
	}
	queue := prometheus.NewDesc("facenet_serve_queue_depth", "Requests waiting in the batching queue, by model.", []string{"model"}, nil)
	identities := prometheus.NewDesc("facenet_serve_store_identities", "Identities in the store.", nil, nil)
	samples := prometheus.NewDesc("facenet_serve_store_samples", "Embeddings in the store.", nil, nil)
	m.reg.MustRegister(m.requests, m.latency, m.batchSize, m.inflight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectorFunc{descs: []*prometheus.Desc{queue, identities, samples}, collect: func(ch chan<- prometheus.Metric) {
			for _, name := range s.names {
				ch <- prometheus.MustNewConstMetric(queue, prometheus.GaugeValue, float64(s.models[name].b.queued()), name)
			}
			if s.store != nil {
				if db, err := s.store.Current(context.Background()); err == nil {
					ch <- prometheus.MustNewConstMetric(identities, prometheus.GaugeValue, float64(db.Len()))
					ch <- prometheus.MustNewConstMetric(samples, prometheus.GaugeValue, float64(db.NumSamples()))
				}
			}
		}},
	)
	return m
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// collectorFunc is a prometheus.Collector of values read when scraped.
type collectorFunc struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// metricsInFlight is the in-flight gauge's value, for tests.
func (s *Server) metricsInFlight() float64 {
	var m dto.Metric
	_ = s.metrics.inflight.Write(&m)
	return m.GetGauge().GetValue()
}
