// A service that misbehaves on purpose, for the smoke-test e2e tests.
// The behaviour is stamped at build time: -X main.mode=ok|500|exit|silent|late|needs-db.
// needs-db is healthy only while it can open a TCP connection to the host of $DATABASE_URL
// (postgres://user:pass@host:port/db), as a service that needs its database at boot.
package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

var mode = "ok"

func main() {
	fmt.Printf("smokefixture starting in mode %q\n", mode)
	switch mode {
	case "exit":
		fmt.Println("fatal: required setting DATABASE_URL is missing, exiting")
		os.Exit(3)
	case "silent":
		fmt.Println("warming up forever, never listening")
		for {
			time.Sleep(time.Hour)
		}
	}
	if mode == "late" {
		// Listens, then dies shortly after: a panic in setup that runs after the listener is up.
		go func() {
			time.Sleep(50 * time.Millisecond)
			fmt.Println("panic: migrations failed after the listener was up")
			os.Exit(4)
		}()
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if mode == "needs-db" {
			u, err := url.Parse(os.Getenv("DATABASE_URL"))
			addr := ""
			if err == nil {
				addr = u.Host
			}
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				fmt.Printf("healthz: cannot reach the database at %q: %v\n", addr, err)
				http.Error(w, "database unreachable", http.StatusServiceUnavailable)
				return
			}
			conn.Close()
		}
		if mode == "500" {
			fmt.Println("healthz: database unreachable")
			http.Error(w, "database unreachable", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok "+os.Getenv("GREETING"))
	})
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
