package alerting

import (
	"fmt"
	"strings"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// foldEntry is the line a message of part p is in a digest, or nil when the receiver does
// not fold (spec.fold Never): the alert name with the state and count, the severity the
// alerts share, a summary and a link to the first alert's source, else to Alertmanager.
func foldEntry(rcv *v1.AlertReceiver, m *Message, p part) *v1.NotificationFold {
	if rcv.Spec.Fold == v1.AlertFoldNever {
		return nil
	}
	common := commonLabels(p.alerts)
	title := (&Data{CommonLabels: common, Alerts: p.alerts}).Title()
	if inst := common["instance"]; inst != "" {
		title += " " + inst
	}
	if p.status == StatusResolved {
		title = "RESOLVED " + title
	}
	if len(p.alerts) > 1 {
		title += fmt.Sprintf(" ×%d", len(p.alerts))
	}
	f := &v1.NotificationFold{Title: cutBytes(title, 256), Severity: cutBytes(common["severity"], 63)}
	for _, a := range p.alerts {
		s := a.Annotations["summary"]
		if s == "" {
			s = a.Annotations["description"]
		}
		if s != "" {
			f.Summary = cutBytes(strings.Join(strings.Fields(s), " "), 512)
			break
		}
	}
	for _, a := range p.alerts {
		if u := cardURL(a.GeneratorURL); u != "" {
			f.URL = u
			break
		}
	}
	if f.URL == "" {
		f.URL = AlertmanagerAlertsURL(m.ExternalURL, common)
	}
	return f
}

// cutBytes cuts s to at most n bytes between UTF-8 characters.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
