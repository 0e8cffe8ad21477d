// A service that misbehaves on purpose, for the smoke-test e2e tests.
// The behaviour is stamped at build time: -X main.mode=ok|500|exit|silent|late.
package main

import (
	"fmt"
	"net/http"
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
