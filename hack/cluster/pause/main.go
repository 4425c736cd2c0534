// Command pause is the cluster's sandbox image (make cluster-up): it holds a pod's namespaces
// and exits on SIGINT or SIGTERM, like registry.k8s.io/pause, which no registry here serves.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	<-c
}
