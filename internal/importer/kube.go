package importer

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// annotationCalendarID binds a connection to an existing calendar (the connection
// controller's wecom.dev/calendar-id); status.calendarID is read first.
const annotationCalendarID = "wecom.dev/calendar-id"

// Scheme knows Secrets and the wecom.dev kinds.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// KubeFlags are kubectl's: the kubeconfig file, its context and the namespace.
type KubeFlags struct {
	Kubeconfig string
	Context    string
	Namespace  string
}

// Client returns a client through the user's kubeconfig (KUBECONFIG, ~/.kube/config or
// --kubeconfig; in a pod, its service account) and the namespace to use: --namespace, else
// the context's, else "default".
func (f KubeFlags) Client() (client.Client, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.Kubeconfig != "" {
		rules.ExplicitPath = f.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: f.Context}
	if f.Namespace != "" {
		overrides.Context.Namespace = f.Namespace
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", err
	}
	scheme, err := Scheme()
	if err != nil {
		return nil, "", err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, "", err
	}
	return c, ns, nil
}

// Connection is what an import needs of a WeComConnection.
type Connection struct {
	Name, Namespace string
	Credentials     Credentials
	// AgentID is the self-built app's, 0 for the contacts-sync secret.
	AgentID int64
	// CalendarID is the calendar the operator keeps the connection's Schedules in, if any.
	CalendarID string
}

// ReadConnection reads a WeComConnection and the secret its Secret holds, with the caller's
// own permissions (the operator's label wecom.dev/use is not needed for that).
func ReadConnection(ctx context.Context, c client.Reader, namespace, name string) (*Connection, error) {
	conn := &v1.WeComConnection{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, conn); err != nil {
		return nil, fmt.Errorf("reading WeComConnection %s/%s: %w", namespace, name, err)
	}
	ref := conn.Spec.SecretRef
	sec := &corev1.Secret{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, sec); err != nil {
		return nil, fmt.Errorf("reading Secret %s/%s of WeComConnection %s: %w", namespace, ref.Name, name, err)
	}
	secret := string(sec.Data[ref.Key])
	if secret == "" {
		secret = sec.StringData[ref.Key]
	}
	if secret == "" {
		return nil, fmt.Errorf("secret %s/%s of WeComConnection %s has no key %q", namespace, ref.Name, name, ref.Key)
	}
	out := &Connection{
		Name: name, Namespace: namespace,
		Credentials: Credentials{APIURL: conn.Spec.APIURL, CorpID: conn.Spec.CorpID, Secret: secret},
		CalendarID:  conn.Status.CalendarID,
	}
	if out.Credentials.APIURL == "" {
		out.Credentials.APIURL = wecom.DefaultBaseURL
	}
	if out.CalendarID == "" {
		out.CalendarID = conn.Annotations[annotationCalendarID]
	}
	if conn.Spec.AgentID != nil {
		out.AgentID = *conn.Spec.AgentID
	}
	return out, nil
}
