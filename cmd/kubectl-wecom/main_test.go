package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wecom-dev/wecom-operator/internal/importer"
)

func TestRun(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "kubectl wecom import"},
		{[]string{"import", "--corp-id", "ww1"}, 2, importer.EnvSecret},
		{[]string{"import", "--connection", "c", "--secret=x"}, 2, "never flags"},
		{[]string{"tree", "-A"}, 2, "-A"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, importer.IO{Stdout: &stdout, Stderr: &stderr, Getenv: noEnv})
		if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
			t.Errorf("%v: code %d, output %q; want %d and %q", tc.args, code, stdout.String()+stderr.String(), tc.code, tc.want)
		}
	}
}
