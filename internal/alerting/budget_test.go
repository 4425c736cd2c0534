package alerting

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// hostile are templates that would exhaust the manager without a budget (issue 11, finding 1),
// and what the refusal must mention. Those stopped while they run may also be stopped by the
// wall clock first when the machine is loaded ("longer than"): either way they are refused
// within the CPU and memory bounds the test checks.
var hostile = []struct {
	name, text, want string
}{
	{"a range over two billion", `{{ range 2000000000 }}{{ end }}`, "range 2000000000"},
	{"a range over a computed number", `{{ $n := len .Alerts }}{{ range $n }}{{ range $n }}{{ range $n }}{{ end }}{{ end }}{{ end }}`, "steps|longer than"},
	{"printf doubling a string", `{{ $x := "ab" }}{{ range 64 }}{{ $x = printf "%s%s" $x $x }}{{ end }}{{ len $x }}`, "printf would make|longer than"},
	{"print doubling a string", `{{ $x := "ab" }}{{ range 64 }}{{ $x = print $x $x }}{{ end }}{{ len $x }}`, "print would make|longer than"},
	{"html growing a string", `{{ $x := "<>" }}{{ range 64 }}{{ $x = html $x $x }}{{ end }}{{ len $x }}`, "html would make|longer than"},
	{"join growing a string", `{{ $x := "ab" }}{{ range 64 }}{{ $x = join $x $.CommonLabels.Names }}{{ end }}{{ len $x }}`, "join would make|longer than"},
	{"printf width", `{{ printf "%0999999999d" 0 }}`, "widths and precisions"},
	{"printf precision", `{{ printf "%.999999999f" 1.0 }}`, "widths and precisions"},
	{"printf width from an argument", `{{ printf "%*d" 999999999 0 }}`, "(*)"},
	{"printf width in a variable", `{{ $f := "%0999999999d" }}{{ printf $f 0 }}`, "widths and precisions"},
	{"many strings kept", `{{ $x := printf "%060000d" 0 }}`, "widths"},
	{"strings made in a loop", `{{ $x := "` + strings.Repeat("x", 10000) + `" }}{{ range 1000 }}{{ $y := print $x $x $x $x $x $x }}{{ end }}`, "functions made more than|longer than"},
	{"recursion", `{{ define "a" }}{{ template "a" . }}{{ end }}{{ template "a" . }}`, "calls itself"},
	{"mutual recursion", `{{ define "a" }}{{ template "b" . }}{{ end }}{{ define "b" }}{{ template "a" . }}{{ end }}x`, "calls itself"},
	{"templates calling each other twice, 30 deep", fanOut(30), "steps|longer than"},
	{"templates calling each other twice, 40 deep", fanOut(40), "40 deep"},
	{"a silence link per step", `{{ range 1000000 }}{{ $.SilenceURL (index $.Alerts 0) }}{{ end }}`, "range 1000000"},
	{"silence links in a computed loop", `{{ $n := len .Alerts }}{{ range $n }}{{ range $n }}{{ $u := $.SilenceURL (index $.Alerts 0) }}{{ $v := $.SilenceURL (index $.Alerts 1) }}{{ $w := $.SilenceURL (index $.Alerts 2) }}{{ end }}{{ end }}`, "functions made more than|longer than|steps"},
	{"many variables", strings.Repeat(`{{ $a := 1 }}`, 65), "variables"},
	{"deep nesting", strings.Repeat(`{{ if 1 }}`, 33) + strings.Repeat(`{{ end }}`, 33), "deep"},
	{"too long", strings.Repeat("x", MaxTemplateBytes+1), "bytes"},
}

// fanOut defines n templates, each calling the next twice: 2^n calls and no output.
func fanOut(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`{{ define "t` + string(rune('A'+i/26)) + string(rune('a'+i%26)) + `" }}`)
		if i+1 < n {
			next := `{{ template "t` + string(rune('A'+(i+1)/26)) + string(rune('a'+(i+1)%26)) + `" . }}`
			b.WriteString(next + next)
		}
		b.WriteString(`{{ end }}`)
	}
	b.WriteString(`{{ template "tAa" . }}`)
	return b.String()
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// The hostile templates are refused when the receiver is checked, fast and in little memory,
// and say what to change.
func TestCheckRefusesTemplatesOverBudget(t *testing.T) {
	for _, h := range hostile {
		for _, markdown := range []bool{true, false} {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := cpuTime()
			err := Check(h.text, markdown, time.UTC)
			took := cpuTime() - start
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: %v of CPU, %d KiB allocated: %v", h.name, took.Round(time.Millisecond), alloc>>10, err)
			if !errors.Is(err, ErrBudget) || !containsAny(err.Error(), strings.Split(h.want, "|")) {
				t.Errorf("%s: got %v, want ErrBudget mentioning %q", h.name, err, h.want)
			}
			if took > 2*DefaultBudget.Time+200*time.Millisecond {
				t.Errorf("%s: checked in %v of CPU, budget %v", h.name, took, DefaultBudget.Time)
			}
			if alloc > 64<<20 {
				t.Errorf("%s: %d MiB allocated", h.name, alloc>>20)
			}
		}
	}
}

func TestCheckAcceptsOrdinaryTemplates(t *testing.T) {
	for _, text := range []string{
		"",
		DefaultMarkdown,
		DefaultText,
		`{{ if eq .Status "firing" }}🔥{{ else }}✅{{ end }} {{ .Title }} ({{ len .Alerts }})
{{ range first 5 .Alerts }}- {{ .Labels.instance }}: {{ .Annotations.summary }} since {{ localTime .StartsAt }}
{{ end }}`,
		`{{ define "alert" }}{{ .Labels.instance | toUpper }} {{ printf "%-20s|%6.2f" .Labels.job 3.14159 }}{{ end }}{{ range .Alerts }}{{ template "alert" . }}
{{ end }}`,
		`{{ range $i, $a := .Alerts }}{{ range $k, $v := $a.Labels }}{{ $k }}={{ $v }} {{ end }}{{ $.SilenceURL $a }}{{ end }}`,
	} {
		if err := Check(text, true, time.UTC); err != nil {
			t.Errorf("%.40q: %v", text, err)
		}
	}
}

// A template can be over budget only on some data: Build stops it, renders the message with the
// built-in template and warns, and stops using the template for the rest of the notification.
func TestBuildStopsATemplateOverBudget(t *testing.T) {
	big := exampleMessage()
	for i := range 16000 {
		a := big.Alerts[0]
		a.Fingerprint = fmt.Sprint(i)
		big.Alerts = append(big.Alerts, a)
	}
	for _, text := range []string{
		`{{ $n := len .Alerts }}{{ range $n }}{{ range $n }}{{ end }}{{ end }}x`,
		// Methods of the data walk every alert and cannot count themselves.
		`{{ range .Alerts }}` + strings.Repeat(`{{ $f := $.Alerts.Firing }}{{ $t := $.Title }}`, 30) + `{{ end }}x`,
	} {
		r := receiver(func(s *v1.AlertReceiverSpec) { s.Template = text })
		if err := Check(r.Spec.Template, true, time.UTC); err != nil {
			t.Fatalf("the sample is small enough: %v", err)
		}
		start := cpuTime()
		ns, warn := Build(r, big, parse(t, r))
		took := cpuTime() - start
		t.Logf("stopped after %v of CPU: %v", took, warn)
		if len(ns) != 1 || !strings.HasPrefix(ns[0].Spec.Message.Markdown.Content, `## <font color="warning">[FIRING:16001]`) {
			t.Fatalf("got %d notifications: %+v", len(ns), ns)
		}
		if len(warn) != 1 || !strings.Contains(warn[0], "over its budget") || took > 2*DefaultBudget.Time+200*time.Millisecond {
			t.Errorf("took %v of CPU, warnings %q", took, warn)
		}
	}
}

// The built-in templates are not stopped by the wall clock: a loaded node must not make a
// receiver without a template of its own warn about a template it does not have. Their steps
// are still counted.
func TestBuiltinTemplatesHaveNoDeadline(t *testing.T) {
	tmpl, err := Parse("", true, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	m := exampleMessage()
	exampleData := func() *Data { return NewData(m, m.Alerts, StatusFiring, 10, true) }
	if !tmpl.builtin {
		t.Fatal("the built-in markdown template is not marked built-in")
	}
	tmpl.budget.Time = time.Nanosecond // any execution takes longer than this
	if _, err := tmpl.Execute(exampleData()); err != nil {
		t.Fatalf("the built-in template was stopped: %v", err)
	}
	tmpl.budget.Steps = 1
	if _, err := tmpl.Execute(exampleData()); !errors.Is(err, ErrBudget) {
		t.Fatalf("the built-in template's steps are not counted: %v", err)
	}

	own, err := Parse(DefaultMarkdown, true, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	own.budget.Time = time.Nanosecond
	if _, err := own.Execute(exampleData()); !errors.Is(err, ErrBudget) {
		t.Fatalf("a receiver's own template (here the default text, given as its own) is not stopped by the clock: %v", err)
	}
}
