package alerting

import (
	"fmt"
	"strings"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/notify"
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
	f := &v1.NotificationFold{Title: notify.Shorten(title, 256), Severity: notify.Shorten(common["severity"], 63)}
	for _, a := range p.alerts {
		s := a.Annotations["summary"]
		if s == "" {
			s = a.Annotations["description"]
		}
		if s != "" {
			f.Summary = notify.Shorten(strings.Join(strings.Fields(s), " "), 512)
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
