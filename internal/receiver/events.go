package receiver

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Event reasons of what callbacks do.
const (
	EventCustomerAdded = "CustomerAdded"
	EventWelcomeSent   = "WelcomeSent"
	EventWelcomeFailed = "WelcomeFailed"
)

// eventName is the event type label of a callback: the Event, and its ChangeType.
func eventName(ev wecom.CallbackEvent) string {
	h := ev.Header()
	name := h.Event
	if name == "" {
		name = "message:" + h.MsgType
	}
	if h.ChangeType != "" {
		name += "/" + h.ChangeType
	}
	return name
}

// handle does what an event asks for. An error makes the answer 500, so WeCom retries.
func (h *Callbacks) handle(ctx context.Context, conn *v1.WeComConnection, ev wecom.CallbackEvent) error {
	log := logf.FromContext(ctx).WithValues("connection", client.ObjectKeyFromObject(conn), "event", eventName(ev))
	switch e := ev.(type) {
	case *wecom.ContactUserEvent:
		ids := []string{e.UserID}
		if e.NewUserID != "" {
			ids = append(ids, e.NewUserID)
		}
		n, err := h.refresh(ctx, conn, &v1.WeComUserList{}, ids...)
		log.V(1).Info("WeCom says a member changed", "userid", e.UserID, "objects", n)
		return err
	case *wecom.ContactPartyEvent:
		n, err := h.refresh(ctx, conn, &v1.WeComDepartmentList{}, strconv.Itoa(e.ID))
		log.V(1).Info("WeCom says a department changed", "id", e.ID, "objects", n)
		return err
	case *wecom.ExternalContactEvent:
		if e.ChangeType != "add_external_contact" || e.State == "" {
			log.V(1).Info("acknowledged a customer-contact event that no object acts on", "userid", e.UserID)
			return nil
		}
		return h.customerAdded(ctx, conn, e)
	case *wecom.ContactTagEvent:
		// Tag events and member events are not ordered (§13): the tag is read again whole.
		n, err := h.refresh(ctx, conn, &v1.WeComTagList{}, strconv.Itoa(e.TagID))
		log.V(1).Info("WeCom says a tag's members changed", "tagid", e.TagID, "objects", n)
		return err
	case *wecom.TemplateCardEvent:
		if e.Event != wecom.EventTemplateCard {
			log.V(1).Info("acknowledged a card menu click that no object acts on", "taskID", e.TaskID)
			return nil
		}
		return h.cardClicked(ctx, conn, e)
	default:
		// change_external_tag has no kind to act on yet: it is acknowledged and counted
		// (wecom_callbacks_total).
		log.V(1).Info("acknowledged a callback that no object acts on")
		return nil
	}
}

// sameCorp lists the connections of conn's namespace for the same corp: objects using any of
// them may be the ones a callback names.
func (h *Callbacks) sameCorp(ctx context.Context, conn *v1.WeComConnection) ([]string, error) {
	list := &v1.WeComConnectionList{}
	if err := h.Client.List(ctx, list, client.InNamespace(conn.Namespace)); err != nil {
		return nil, err
	}
	var out []string
	for _, c := range list.Items {
		if c.Spec.CorpID == conn.Spec.CorpID {
			out = append(out, c.Name)
		}
	}
	return out, nil
}

// refresh marks the objects of list's kind with one of ids, in conn's namespace and corp,
// for a fresh read (v1.AnnotationRefresh); the leader's controller reads and repairs them.
// It returns how many it marked.
func (h *Callbacks) refresh(ctx context.Context, conn *v1.WeComConnection, list client.ObjectList, ids ...string) (int, error) {
	conns, err := h.sameCorp(ctx, conn)
	if err != nil {
		return 0, err
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	marked := 0
	for _, id := range ids {
		if err := h.Client.List(ctx, list, client.InNamespace(conn.Namespace),
			client.MatchingFields{controller.IndexExternalID: strings.ToLower(id)}); err != nil {
			return marked, err
		}
		objs, err := managedItems(list)
		if err != nil {
			return marked, err
		}
		for _, obj := range objs {
			if !slices.Contains(conns, obj.GetConnectionName()) || !obj.GetDeletionTimestamp().IsZero() {
				continue
			}
			patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
			ann := obj.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[v1.AnnotationRefresh] = now
			obj.SetAnnotations(ann)
			if err := h.Client.Patch(ctx, obj, patch); client.IgnoreNotFound(err) != nil {
				return marked, err
			}
			marked++
		}
	}
	return marked, nil
}

func managedItems(list client.ObjectList) ([]v1.Managed, error) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]v1.Managed, 0, len(items))
	for _, it := range items {
		m, ok := it.(v1.Managed)
		if !ok {
			return nil, fmt.Errorf("no callback refresh for %T", it)
		}
		out = append(out, m)
	}
	return out, nil
}

// customerAdded records a customer who added a member through a ContactWay (found by the
// event's State) and sends the way's welcome message with the event's welcome code.
//
// Exactly once: the customer is written to status.recentCustomers (with an optimistic lock)
// before the message is sent, so a retry of the event, here or on another replica, finds it
// and neither counts it again nor sends again once the message is Sent. A retry that finds
// it still Pending (the first handler died mid-send) sends: WeCom accepts a welcome code
// once, so a message that did go out is not sent twice.
func (h *Callbacks) customerAdded(ctx context.Context, conn *v1.WeComConnection, e *wecom.ExternalContactEvent) error {
	log := logf.FromContext(ctx)
	conns, err := h.sameCorp(ctx, conn)
	if err != nil {
		return err
	}
	ways := &v1.ContactWayList{}
	if err := h.Client.List(ctx, ways, client.InNamespace(conn.Namespace), client.MatchingFields{controller.IndexWayState: e.State}); err != nil {
		return err
	}
	var way *v1.ContactWay
	for i := range ways.Items {
		if slices.Contains(conns, ways.Items[i].Spec.ConnectionRef.Name) {
			way = &ways.Items[i]
			break
		}
	}
	if way == nil {
		log.V(1).Info("no ContactWay has the state of a customer's add_external_contact; acknowledged", "state", e.State)
		return nil
	}
	key := client.ObjectKeyFromObject(way)
	added := time.Unix(e.CreateTime, 0)
	if e.CreateTime == 0 {
		added = time.Now()
	}

	// Record the customer, unless a delivery before this one did.
	send, again, count := false, false, int64(0)
	wrote, err := updateStatus(ctx, h, key, newContactWay, func(w *v1.ContactWay) bool {
		if i := customerIndex(w, e); i >= 0 {
			send = w.Status.RecentCustomers[i].Welcome == v1.WelcomePending
			again = send
			return false
		}
		c := v1.ContactWayCustomer{ExternalUserID: e.ExternalUserID, UserID: e.UserID, AddedTime: metav1.NewTime(added), Welcome: v1.WelcomeNone}
		switch {
		case w.Spec.Welcome != nil && e.WelcomeCode != "":
			c.Welcome, send = v1.WelcomePending, true
		case w.Spec.Welcome != nil:
			c.Message = "WeCom sent no welcome code: a welcome message is configured for this member in the admin console, or another app sent one"
		}
		w.Status.CustomersAdded++
		w.Status.LastCustomerAddedTime = &c.AddedTime
		w.Status.RecentCustomers = append(w.Status.RecentCustomers, c)
		if n := len(w.Status.RecentCustomers); n > v1.MaxRecentCustomers {
			w.Status.RecentCustomers = w.Status.RecentCustomers[n-v1.MaxRecentCustomers:]
		}
		count = w.Status.CustomersAdded
		return true
	})
	if err != nil {
		return err
	}
	if wrote {
		h.event(way, "Normal", EventCustomerAdded, "Count", fmt.Sprintf("A customer added member %s through this way (%d so far)", e.UserID, count))
	}
	if !send {
		return nil
	}

	welcome, sendErr := way.Spec.Welcome, error(nil)
	c, err := h.Connector.Connect(ctx, way.Namespace, way.Spec.ConnectionRef.Name)
	if err == nil {
		sendErr = h.SendWelcome(ctx, c, e.WelcomeCode, welcome)
	} else {
		sendErr = err
	}
	if again && wecom.Code(sendErr) == wecom.ErrCodeWelcomeChatStarted {
		// A delivery before this one sent it and died before recording that (or another
		// app was first): WeCom took the code once; nothing more can be sent with it.
		sendErr = nil
	}
	if sendErr != nil && !wecom.IsTerminal(sendErr) {
		// WeCom may take it on a retry of the event (the code lives 20 s): answer 500.
		return fmt.Errorf("sending the welcome message: %w", sendErr)
	}
	wrote, err = updateStatus(ctx, h, key, newContactWay, func(w *v1.ContactWay) bool {
		i := customerIndex(w, e)
		if i < 0 || w.Status.RecentCustomers[i].Welcome != v1.WelcomePending {
			return false
		}
		c := &w.Status.RecentCustomers[i]
		if sendErr != nil {
			c.Welcome, c.Message = v1.WelcomeFailed, sendErr.Error()
		} else {
			c.Welcome, c.Message = v1.WelcomeSent, ""
		}
		return true
	})
	switch {
	case err != nil || !wrote:
	case sendErr != nil:
		h.event(way, "Warning", EventWelcomeFailed, "Welcome", "WeCom refused the welcome message to a customer of member "+e.UserID+": "+sendErr.Error())
	default:
		h.event(way, "Normal", EventWelcomeSent, "Welcome", "Sent the welcome message to a customer of member "+e.UserID)
	}
	return err
}

func customerIndex(w *v1.ContactWay, e *wecom.ExternalContactEvent) int {
	return slices.IndexFunc(w.Status.RecentCustomers, func(c v1.ContactWayCustomer) bool {
		return c.ExternalUserID == e.ExternalUserID && strings.EqualFold(c.UserID, e.UserID)
	})
}

// updateStatus reads an object from the API server (not the cache: a retry on another
// replica must see what this one wrote), applies mutate and writes the status with an
// optimistic lock, again on a conflict. mutate returns false when there is nothing to write;
// updateStatus says whether it wrote.
func updateStatus[T client.Object](ctx context.Context, h *Callbacks, key types.NamespacedName, newObj func() T, mutate func(T) bool) (bool, error) {
	wrote := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := newObj()
		if err := h.APIReader.Get(ctx, key, obj); err != nil {
			return client.IgnoreNotFound(err)
		}
		before := obj.DeepCopyObject().(client.Object)
		if wrote = mutate(obj); !wrote {
			return nil
		}
		return h.Client.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
	return wrote && err == nil, err
}

func newContactWay() *v1.ContactWay { return &v1.ContactWay{} }

func (h *Callbacks) event(obj client.Object, typ, reason, action, note string) {
	if h.Recorder != nil {
		h.Recorder.Eventf(obj, nil, typ, reason, action, "%s", note)
	}
}

// sendWelcome sends w with a customer's welcome code (externalcontact/send_welcome_msg).
func sendWelcome(ctx context.Context, conn *controller.Connection, code string, w *v1.ContactWayWelcome) error {
	return conn.Client.SendWelcomeMsg(ctx, welcomeMessage(code, w))
}

// welcomeMessage is the send_welcome_msg body of a ContactWay's welcome.
func welcomeMessage(code string, w *v1.ContactWayWelcome) wecom.WelcomeMessage {
	msg := wecom.WelcomeMessage{WelcomeCode: code}
	if w.Text != nil {
		msg.Text = &wecom.WelcomeText{Content: w.Text.Content}
	}
	if l := w.Link; l != nil {
		msg.Attachments = append(msg.Attachments, wecom.WelcomeAttachment{MsgType: wecom.AttachmentTypeLink,
			Link: &wecom.WelcomeLink{Title: l.Title, PicURL: l.PicURL, Desc: l.Desc, URL: l.URL}})
	}
	if m := w.Miniprogram; m != nil {
		msg.Attachments = append(msg.Attachments, wecom.WelcomeAttachment{MsgType: wecom.AttachmentTypeMiniProgram,
			MiniProgram: &wecom.WelcomeMiniProgram{Title: m.Title, PicMediaID: m.PicMediaID, AppID: m.AppID, Page: m.Page}})
	}
	return msg
}
