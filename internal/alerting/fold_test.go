package alerting

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// A receiver's Notifications ask to be folded unless the receiver says fold: Never, or a
// digest would lose their mentions.
func TestBuildAsksToFold(t *testing.T) {
	r := receiver(nil)
	ns, _ := Build(r, exampleMessage(), parse(t, r))
	want := &v1.NotificationFold{Title: "HighCPU ×2", Severity: "critical", Summary: "CPU usage above 90% on node-1",
		URL: "http://prometheus.example.com/graph?g0.expr=cpu"}
	if diff := cmp.Diff(want, ns[0].Spec.Fold); diff != "" {
		t.Errorf("fold entry (-want +got):\n%s", diff)
	}

	r = receiver(func(s *v1.AlertReceiverSpec) { s.Split = v1.AlertSplitAlert })
	ns, _ = Build(r, exampleMessage(), parse(t, r))
	if got := ns[1].Spec.Fold.Title; got != "RESOLVED HighCPU node-2" {
		t.Errorf("resolved alert's entry title %q", got)
	}

	r = receiver(func(s *v1.AlertReceiverSpec) { s.Format = v1.AlertFormatCard })
	ns, _ = Build(r, exampleMessage(), parse(t, r))
	if ns[0].Spec.Message.TemplateCard == nil || ns[0].Spec.Fold == nil {
		t.Errorf("a card does not ask to be folded: %+v", ns[0].Spec.Fold)
	}

	r = receiver(func(s *v1.AlertReceiverSpec) { s.Fold = v1.AlertFoldNever })
	if ns, _ = Build(r, exampleMessage(), parse(t, r)); ns[0].Spec.Fold != nil {
		t.Errorf("fold Never: %+v", ns[0].Spec.Fold)
	}

	r = receiver(func(s *v1.AlertReceiverSpec) {
		s.To, s.ConnectionRef = nil, nil
		s.Robot = &v1.RobotTarget{WebhookSecretRef: v1.SecretKeySelector{Name: "bot", Key: "url"}}
		s.Mentions = []v1.AlertMention{{Users: []string{"lisi"}}}
	})
	if ns, _ = Build(r, exampleMessage(), parse(t, r)); ns[0].Spec.Fold != nil {
		t.Errorf("a message with mentions asks to be folded")
	}
}
