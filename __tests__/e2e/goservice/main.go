// A Gin + Prometheus + logrus service with real third-party modules, served
// by scripts/goproxy.mjs from Debian's sources. The e2e tests and the
// benchmark build it to measure module downloads and Go build-cache reuse.
package main

import (
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"
)

var requests = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "goservice_requests_total",
	Help: "Requests served, by path.",
}, []string{"path"})

func main() {
	prometheus.MustRegister(requests)
	log := logrus.New()
	log.SetFormatter(&logrus.JSONFormatter{})

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), func(c *gin.Context) {
		id := uuid.NewString()
		c.Header("X-Request-Id", id)
		c.Next()
		requests.WithLabelValues(c.FullPath()).Inc()
		log.WithFields(logrus.Fields{"id": id, "path": c.Request.URL.Path, "status": c.Writer.Status()}).Info("request")
	})
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	r.GET("/metrics", gin.WrapH(promhttp.Handler()))
	r.GET("/", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"service": "goservice", "version": version}) })

	addr := ":8080"
	if v := os.Getenv("ADDR"); v != "" {
		addr = v
	}
	log.WithField("addr", addr).Info("listening")
	if err := r.Run(addr); err != nil {
		log.Fatal(err)
	}
}

var version = "dev"
