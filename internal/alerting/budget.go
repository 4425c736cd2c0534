package alerting

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	tparse "text/template/parse"
	"time"
)

// A receiver's template is written by whoever may create AlertReceivers in a namespace and
// runs inside the manager every tenant shares. text/template cannot be cancelled, so the
// budget is enforced from inside: a step function is inserted at the start of every range
// body and every template, every function the template may call counts its work and the
// bytes it makes, and the output goes through a writer that stops at MaxContentBytes. What
// cannot be counted at run time is bounded before it runs (static checks in Parse) or by the
// size of the data a template sees (view.go).

// Budget bounds one execution of a template.
type Budget struct {
	// Time is the wall time one execution may take.
	Time time.Duration
	// Steps counts range iterations, template calls and function calls.
	Steps int
	// ValueBytes bounds one value a function makes (printf, join, html, …).
	ValueBytes int
	// AllocBytes bounds the bytes all functions make in one execution.
	AllocBytes int
}

// DefaultBudget is every receiver's budget. The built-in templates use a small part of it
// for a group of 16,000 alerts; a template that needs more is doing something else.
var DefaultBudget = Budget{Time: 100 * time.Millisecond, Steps: 100_000, ValueBytes: 64 << 10, AllocBytes: 4 << 20}

// BuildTime bounds the time a receiver's own template may take over one Alertmanager
// notification (all its messages and the retries that list fewer alerts); past it, the
// built-in template renders the rest.
const BuildTime = time.Second

// Static limits, checked when a template is parsed.
const (
	// MaxTemplateBytes is spec.template's limit in the CRD.
	MaxTemplateBytes = 16384
	// MaxVariables bounds the variables a template declares, each of which can hold a value.
	MaxVariables = 64
	// MaxDepth bounds nesting: if, with, range, parentheses and template calls.
	MaxDepth = 32
	// MaxFormatNumber bounds a printf width, precision or argument index: fmt pads and
	// expands before anything can count the bytes.
	MaxFormatNumber = 64
)

// ErrBudget wraps every refusal of a template for what it would cost.
var ErrBudget = errors.New("over its budget")

// execState is the account of one execution.
type execState struct {
	b Budget
	// deadline is when the execution must end; zero for a built-in template.
	deadline time.Time
	steps    int
	alloc    int
	// err is the first budget error. text/template reports a function's error wrapped in
	// its own words and the name of the step function; this is what a person should read.
	err error
}

func (s *execState) fail(format string, args ...any) error {
	if s.err == nil {
		s.err = fmt.Errorf("%w: "+format, append([]any{ErrBudget}, args...)...)
	}
	return s.err
}

// step counts one unit of work and checks the clock.
func (s *execState) step() error {
	if s == nil {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	s.steps++
	if s.steps > s.b.Steps {
		return s.fail("it ran more than %d steps (range iterations, template and function calls); "+
			"range over .Alerts or first N .Alerts rather than over a number, and do not nest loops over large lists", s.b.Steps)
	}
	// Every step: one can be a method that walks all of a large group's alerts.
	if !s.deadline.IsZero() && time.Now().After(s.deadline) {
		return s.fail("it ran longer than %v; range over .Alerts or first N .Alerts, and do not nest loops", s.b.Time)
	}
	return nil
}

// precheck refuses a value of n bytes before a function makes it.
func (s *execState) precheck(fn string, n int) error {
	if err := s.step(); err != nil {
		return err
	}
	if s != nil && n > s.b.ValueBytes {
		return s.fail("%s would make %d bytes, more than %d; messages are at most %d bytes, so do not build large strings",
			fn, n, s.b.ValueBytes, MaxContentBytes)
	}
	return nil
}

// account counts a value of n bytes a function made.
func (s *execState) account(fn string, n int) error {
	if s == nil {
		return nil
	}
	if err := s.precheck(fn, n); err != nil {
		return err
	}
	s.alloc += n
	if s.alloc > s.b.AllocBytes {
		return s.fail("its functions made more than %d bytes in one message; do not build strings in loops", s.b.AllocBytes)
	}
	return nil
}

// stepFunc is the name of the function inserted into every range body and template.
const stepFunc = "budgetStep"

// checkFormat refuses printf directives that make large values by themselves: a width or
// precision above MaxFormatNumber, or one taken from an argument (*).
func checkFormat(f string) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		for i++; i < len(f) && strings.IndexByte("+-# 0123456789.[]*", f[i]) >= 0; i++ {
			switch c := f[i]; {
			case c == '*':
				return fmt.Errorf("%w: printf %q takes a width or precision from an argument (*); write the number", ErrBudget, f)
			case c >= '0' && c <= '9':
				j := i
				for j < len(f) && f[j] >= '0' && f[j] <= '9' {
					j++
				}
				if n, err := strconv.Atoi(f[i:j]); err != nil || n > MaxFormatNumber {
					return fmt.Errorf("%w: printf %q has the number %s; widths and precisions are at most %d", ErrBudget, f, f[i:j], MaxFormatNumber)
				}
				i = j - 1
			}
		}
	}
	return nil
}

// checker walks the parse trees of a template before it runs.
type checker struct {
	steps int
	vars  int
	// depth is each template's own deepest nesting; calls the templates it calls, at the
	// nesting of the call.
	depth map[string]int
	calls map[string][]call
	name  string
	err   error
}

type call struct {
	name  string
	depth int
}

func (c *checker) failf(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrBudget}, args...)...)
	}
}

// check runs the static checks over every template defined by t.
func check(t *template.Template, steps int) error {
	c := &checker{steps: steps, depth: map[string]int{}, calls: map[string][]call{}}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Root == nil {
			continue
		}
		c.name = tt.Name()
		c.depth[c.name] = 0
		c.walk(tt.Root, 0)
	}
	if c.err != nil {
		return c.err
	}
	if c.vars > MaxVariables {
		return fmt.Errorf("%w: it declares %d variables, more than %d", ErrBudget, c.vars, MaxVariables)
	}
	memo := map[string]int{}
	var depth func(name string, path []string) (int, error)
	depth = func(name string, path []string) (int, error) {
		for i, p := range path {
			if p == name {
				return 0, fmt.Errorf("%w: template %q calls itself (%s); recursion is not allowed",
					ErrBudget, name, strings.Join(append(path[i:], name), " → "))
			}
		}
		if d, ok := memo[name]; ok {
			return d, nil
		}
		d := c.depth[name]
		for _, cl := range c.calls[name] {
			sub, err := depth(cl.name, append(path, name))
			if err != nil {
				return 0, err
			}
			d = max(d, cl.depth+1+sub)
		}
		memo[name] = d
		return d, nil
	}
	d, err := depth(t.Name(), nil)
	if err != nil {
		return err
	}
	if d > MaxDepth {
		return fmt.Errorf("%w: it nests if, with, range, parentheses and template calls %d deep, more than %d", ErrBudget, d, MaxDepth)
	}
	// Templates the root does not call may still be called by each other in a cycle; a
	// cycle anywhere is refused, not only a reachable one.
	for name := range c.depth {
		if _, err := depth(name, nil); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) walk(n tparse.Node, d int) {
	if c.err != nil || n == nil {
		return
	}
	if d > MaxDepth {
		c.failf("it nests if, with, range, parentheses and template calls more than %d deep", MaxDepth)
		return
	}
	c.depth[c.name] = max(c.depth[c.name], d)
	switch n := n.(type) {
	case *tparse.ListNode:
		if n == nil {
			return
		}
		for _, x := range n.Nodes {
			c.walk(x, d)
		}
	case *tparse.ActionNode:
		c.pipe(n.Pipe, d)
	case *tparse.IfNode:
		c.branch(&n.BranchNode, d)
	case *tparse.WithNode:
		c.branch(&n.BranchNode, d)
	case *tparse.RangeNode:
		if p := n.Pipe; len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
			if num, ok := p.Cmds[0].Args[0].(*tparse.NumberNode); ok && (num.IsInt && num.Int64 > int64(c.steps) || num.IsUint && num.Uint64 > uint64(c.steps)) {
				c.failf("range %s runs more than %d steps; range over .Alerts or a small number", num.Text, c.steps)
				return
			}
		}
		c.branch(&n.BranchNode, d)
	case *tparse.TemplateNode:
		c.calls[c.name] = append(c.calls[c.name], call{n.Name, d})
		c.pipe(n.Pipe, d)
	}
}

func (c *checker) branch(b *tparse.BranchNode, d int) {
	c.pipe(b.Pipe, d+1)
	c.walk(b.List, d+1)
	c.walk(b.ElseList, d+1)
}

func (c *checker) pipe(p *tparse.PipeNode, d int) {
	if p == nil {
		return
	}
	c.vars += len(p.Decl)
	for _, cmd := range p.Cmds {
		if len(cmd.Args) >= 2 {
			if id, ok := cmd.Args[0].(*tparse.IdentifierNode); ok && id.Ident == "printf" {
				if s, ok := cmd.Args[1].(*tparse.StringNode); ok {
					if err := checkFormat(s.Text); err != nil && c.err == nil {
						c.err = err
					}
				}
			}
		}
		for _, a := range cmd.Args {
			if sub, ok := a.(*tparse.PipeNode); ok {
				if d+1 > MaxDepth {
					c.failf("it nests if, with, range, parentheses and template calls more than %d deep", MaxDepth)
					return
				}
				c.depth[c.name] = max(c.depth[c.name], d+1)
				c.pipe(sub, d+1)
			}
		}
	}
}

// instrument puts a call of the step function at the start of every template and every
// range body of t, so a loop that prints nothing, or templates that call each other many
// times, still count against the budget.
func instrument(t *template.Template, step tparse.Node) {
	var walk func(n tparse.Node)
	walk = func(n tparse.Node) {
		switch n := n.(type) {
		case *tparse.ListNode:
			if n == nil {
				return
			}
			for _, x := range n.Nodes {
				walk(x)
			}
		case *tparse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *tparse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		case *tparse.RangeNode:
			walk(n.List)
			walk(n.ElseList)
			if n.List != nil {
				n.List.Nodes = append([]tparse.Node{step}, n.List.Nodes...)
			}
		}
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Root == nil {
			continue
		}
		walk(tt.Root)
		tt.Root.Nodes = append([]tparse.Node{step}, tt.Root.Nodes...)
	}
}

// sampleAlerts is the size of the group Check renders.
const sampleAlerts = 100

// sample is a group of sampleAlerts alerts, half of them resolved, as Alertmanager sends it.
func sample() *Message {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	m := &Message{
		Version: "4", GroupKey: `{}/{severity="critical"}:{alertname="HighCPU"}`, Status: StatusFiring, Receiver: "wecom",
		GroupLabels:       KV{"alertname": "HighCPU"},
		CommonLabels:      KV{"alertname": "HighCPU", "severity": "critical", "job": "node"},
		CommonAnnotations: KV{"runbook_url": "https://runbooks.example.com/HighCPU"},
		ExternalURL:       "http://alertmanager.example.com",
	}
	for i := range sampleAlerts {
		a := Alert{
			Status: StatusFiring,
			Labels: KV{"alertname": "HighCPU", "severity": "critical", "job": "node", "instance": fmt.Sprintf("node-%d:9100", i),
				"cluster": "prod", "namespace": "monitoring", "pod": fmt.Sprintf("node-exporter-%05d", i), "team": "sre"},
			Annotations:  KV{"summary": fmt.Sprintf("CPU usage above 90%% on node-%d", i), "description": "The node has used more than 90% CPU for 5 minutes."},
			StartsAt:     start.Add(-time.Duration(i) * time.Minute),
			GeneratorURL: "http://prometheus.example.com/graph?g0.expr=cpu",
			Fingerprint:  fmt.Sprintf("%016x", i),
		}
		if i%2 == 1 {
			a.Status, a.EndsAt = StatusResolved, start
		}
		m.Alerts = append(m.Alerts, a)
	}
	return m
}

// Check parses text as Parse does and renders a sample group of 100 alerts with it, and one
// of its alerts alone, within the budget: a template that goes over it on ordinary data is
// refused before any alert arrives, with an error that says what to change. Errors other
// than the budget's (a missing index, say) depend on the data, and are left to the fallback
// at the time.
func Check(text string, markdown bool, loc *time.Location) error {
	t, err := Parse(text, markdown, loc)
	if err != nil {
		return err
	}
	m := sample()
	for _, alerts := range []Alerts{m.Alerts, m.Alerts[:1]} {
		d := NewData(m, alerts, m.Status, DefaultMaxAlerts, markdown)
		if _, err := t.Execute(d); errors.Is(err, ErrBudget) {
			return err
		}
	}
	return nil
}
