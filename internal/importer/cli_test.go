package importer

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseImport(t *testing.T) {
	secrets := env(map[string]string{EnvSecret: "s3cret", EnvAppSecret: "app-s3cret"})
	for _, tc := range []struct {
		name    string
		args    []string
		getenv  func(string) string
		wantErr string
		check   func(t *testing.T, f *importFlags)
	}{
		{name: "connection with defaults", args: []string{"--connection", "contacts"}, check: func(t *testing.T, f *importFlags) {
			if f.connection != "contacts" || f.outputDir != "./wecom-import" || f.qps != 40 || f.burst != 20 || f.concurrency != 8 || f.manage || f.dryRun {
				t.Errorf("defaults: %+v", f)
			}
			if f.secret != "" || f.appSecret != "" {
				t.Error("a connected corp takes no secret from the environment")
			}
		}},
		{name: "short and long namespace", args: []string{"--connection=c", "-n", "team-a"}, check: func(t *testing.T, f *importFlags) {
			if f.kube.Namespace != "team-a" || !f.namespaceGiven {
				t.Errorf("namespace %q given %v", f.kube.Namespace, f.namespaceGiven)
			}
		}},
		{name: "long namespace, kubeconfig, context", args: []string{"--connection", "c", "--namespace=team-b", "--kubeconfig", "/k", "--context", "ctx"}, check: func(t *testing.T, f *importFlags) {
			if f.kube != (KubeFlags{Kubeconfig: "/k", Context: "ctx", Namespace: "team-b"}) {
				t.Errorf("kube flags %+v", f.kube)
			}
		}},
		{name: "repeated and comma-separated chats and calendars", args: []string{"--app-connection", "app", "--chat", "a", "--chat=b,c", "--calendar", "cal1"}, check: func(t *testing.T, f *importFlags) {
			if strings.Join(f.chats, " ") != "a b c" || strings.Join(f.calendars, " ") != "cal1" {
				t.Errorf("chats %v calendars %v", f.chats, f.calendars)
			}
		}},
		{name: "corp mode reads secrets from the environment", args: []string{"--corp-id", "ww1", "--api-url", "http://sim", "--manage", "--dry-run", "--output-dir", "out"}, getenv: secrets,
			check: func(t *testing.T, f *importFlags) {
				if f.secret != "s3cret" || f.appSecret != "app-s3cret" || f.connName != "wecom-contacts" || f.appConnName != "wecom-app" {
					t.Errorf("corp mode %+v", f)
				}
				if !f.manage || !f.dryRun || f.outputDir != "out" || f.apiURL != "http://sim" {
					t.Errorf("flags %+v", f)
				}
			}},
		{name: "corp mode names its connections", args: []string{"--corp-id", "ww1", "--connection-name", "mine"}, getenv: secrets, check: func(t *testing.T, f *importFlags) {
			if f.connName != "mine" {
				t.Errorf("connection name %q", f.connName)
			}
		}},
		{name: "corp mode with the app's agentid", args: []string{"--corp-id", "ww1", "--agent-id", "1000002"}, getenv: secrets, check: func(t *testing.T, f *importFlags) {
			if f.agentID != 1000002 {
				t.Errorf("agent id %d", f.agentID)
			}
		}},
		{name: "agent-id without the app's secret", args: []string{"--corp-id", "ww1", "--agent-id", "1000002"}, getenv: env(map[string]string{EnvSecret: "s"}), wantErr: EnvAppSecret},
		{name: "agent-id with a connection", args: []string{"--connection", "c", "--agent-id", "1000002"}, wantErr: "--agent-id goes with --corp-id"},
		{name: "negative agent-id", args: []string{"--corp-id", "ww1", "--agent-id", "-1"}, getenv: secrets, wantErr: "positive"},
		{name: "corp mode without a secret", args: []string{"--corp-id", "ww1"}, wantErr: EnvSecret},
		{name: "a secret as a flag is refused", args: []string{"--corp-id", "ww1", "--secret", "x"}, getenv: secrets, wantErr: "never flags"},
		{name: "an app secret as a flag is refused", args: []string{"--corp-id", "ww1", "-app-secret=x"}, getenv: secrets, wantErr: "never flags"},
		{name: "no corp", args: nil, wantErr: "--connection NAME"},
		{name: "both modes", args: []string{"--connection", "c", "--corp-id", "ww1"}, getenv: secrets, wantErr: "not both"},
		{name: "api-url with a connection", args: []string{"--connection", "c", "--api-url", "http://x"}, wantErr: "--api-url goes with --corp-id"},
		{name: "bad qps", args: []string{"--connection", "c", "--qps", "0"}, wantErr: "positive"},
		{name: "unknown flag", args: []string{"--connection", "c", "--bogus"}, wantErr: "bogus"},
		{name: "stray argument", args: []string{"--connection", "c", "extra"}, wantErr: "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := tc.getenv
			if getenv == nil {
				getenv = env(nil)
			}
			f, err := parseImport(tc.args, getenv, &bytes.Buffer{})
			if tc.wantErr != "" {
				var ue usageError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ue) {
					t.Fatalf("error %v, want a usage error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, f)
		})
	}
}

func TestParseScope(t *testing.T) {
	f, err := parseScope("drift", []string{"-A"}, &bytes.Buffer{}, true)
	if err != nil || !f.allNamespaces {
		t.Fatalf("-A: %+v %v", f, err)
	}
	f, err = parseScope("drift", []string{"--all-namespaces=true", "--kubeconfig", "/k"}, &bytes.Buffer{}, true)
	if err != nil || !f.allNamespaces || f.kube.Kubeconfig != "/k" {
		t.Fatalf("--all-namespaces: %+v %v", f, err)
	}
	if _, err := parseScope("drift", []string{"-A", "-n", "x"}, &bytes.Buffer{}, true); err == nil {
		t.Error("-A with -n accepted")
	}
	f, err = parseScope("tree", []string{"-n", "team-a", "--members=false"}, &bytes.Buffer{}, false)
	if err != nil || f.members || f.kube.Namespace != "team-a" {
		t.Fatalf("tree: %+v %v", f, err)
	}
	if _, err := parseScope("tree", []string{"-A"}, &bytes.Buffer{}, false); err == nil {
		t.Error("tree accepted -A")
	}
	if _, err := parseScope("tree", []string{"-h"}, &bytes.Buffer{}, false); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestMainExitCodes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "Usage:"},
		{[]string{"help"}, 0, "kubectl wecom import"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"import"}, 2, "--connection NAME"},
		{[]string{"import", "-h"}, 0, "-output-dir"},
		{[]string{"drift", "-A", "-n", "x"}, 2, "not both"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(ctx, tc.args, IO{Stdout: &stdout, Stderr: &stderr, Getenv: env(nil)})
		if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.out) {
			t.Errorf("%v: code %d, output %q; want %d and %q", tc.args, code, stdout.String()+stderr.String(), tc.code, tc.out)
		}
	}
}

// TestMainCorpMode runs the whole command line against the simulator with a corp not yet
// connected: secrets from the environment, never in the output.
func TestMainCorpMode(t *testing.T) {
	sim := wecomsim.NewServer(t, wecomsim.Options{})
	dir := filepath.Join(t.TempDir(), "out")
	getenv := env(map[string]string{EnvSecret: wecomsim.DemoContactsSecret, EnvAppSecret: wecomsim.DemoAppSecret})
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"import", "--corp-id", wecomsim.DemoCorpID, "--api-url", sim.URL,
		"--agent-id", "1000002", "--output-dir", dir, "-n", "team-a"}, IO{Stdout: &stdout, Stderr: &stderr, Getenv: getenv})
	if code != 0 {
		t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	for _, s := range []string{wecomsim.DemoContactsSecret, wecomsim.DemoAppSecret} {
		if strings.Contains(stdout.String()+stderr.String(), s) {
			t.Error("a secret was printed")
		}
	}
	k, err := os.ReadFile(filepath.Join(dir, FileKustomization))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(k), "namespace: team-a\n") || !strings.Contains(string(k), "- users.yaml\n") {
		t.Errorf("kustomization.yaml:\n%s", k)
	}
	users, err := os.ReadFile(filepath.Join(dir, FileUsers))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(users), "name: wecom-contacts") {
		t.Errorf("users reference the default connection name:\n%s", users)
	}
	// Tags are read with the contacts-sync secret, the app with its own.
	for file, want := range map[string]string{FileTags: "name: wecom-contacts", FileApps: "name: wecom-app"} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not reference %q:\n%s", file, want, b)
		}
	}
}
