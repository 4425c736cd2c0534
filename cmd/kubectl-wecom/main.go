// Command kubectl-wecom is the kubectl plugin of the wecom-operator: installed on the PATH as
// kubectl-wecom, it runs as `kubectl wecom`.
//
//	go install github.com/wecom-dev/wecom-operator/cmd/kubectl-wecom@latest
//
//	kubectl wecom import --connection wecom-contacts --app-connection wecom-app -n team-a --dry-run
//	kubectl wecom drift -A
//	kubectl wecom tree -n team-a
//
// The commands live in internal/importer; docs/import.md walks through adopting a corp.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wecom-dev/wecom-operator/internal/importer"
)

func main() {
	os.Exit(run(os.Args[1:], importer.IO{
		Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		// A progress bar on a terminal, plain lines in a log.
		TTY: importer.IsTerminal(os.Stderr),
	}))
}

// run runs the plugin until it is done or interrupted (Ctrl-C stops the reads; nothing is
// written then) and returns the exit code.
func run(args []string, stdio importer.IO) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return importer.Main(ctx, args, stdio)
}
