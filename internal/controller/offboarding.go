package controller

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Offboarding (issue 12): a WeComUser with spec.offboarding hands its customers and customer
// group chats to the successor with WeCom's succession APIs for members in service
// (客户联系 → 在职继承) before the member is deleted. Group chats change owner at once; a
// customer's handover waits 24 hours (unless the customer refuses), so the delete is retried
// until transfer_result says every customer is with the successor. Anything WeCom refuses
// blocks the delete: deleting the member would leave those customers without a follow-up
// member.

// handoverMaxPoll bounds how long a waiting handover goes unchecked.
const handoverMaxPoll = 10 * time.Minute

// handoverRefusedError says what WeCom refused; it blocks the delete.
type handoverRefusedError struct{ msg string }

func (e *handoverRefusedError) Error() string { return e.msg }

// handover hands obj's customers and group chats to the successor. It returns nil once the
// member may be deleted, and otherwise the error that says why not yet.
func (u *userClient) handover(ctx context.Context, obj *v1.WeComUser) error {
	off := obj.Spec.Offboarding
	leaver := obj.Status.UserID
	successor := off.HandoverTo.UserID
	if off.HandoverTo.Ref != nil {
		var err error
		if successor, err = memberUserID(ctx, u.kube, obj.Namespace, off.HandoverTo.Ref.Name); err != nil {
			return err
		}
	}
	api := wecom.Succession(u.c.Client)
	connName := u.c.Name
	if off.ConnectionRef != nil && off.ConnectionRef.Name != u.c.Name {
		// The handover runs while the member is deleted (see ConnectForDelete).
		conn, err := u.connector.ConnectForDelete(ctx, obj.Namespace, off.ConnectionRef.Name)
		if err != nil {
			return err
		}
		api, connName = conn.Client, conn.Name
	}
	st := obj.Status.Offboarding
	if st == nil || !strings.EqualFold(st.Successor, successor) {
		st = &v1.OffboardingStatus{Successor: successor}
	}
	refuse := func(err error) error {
		if wecom.IsTerminal(err) && !wecom.IsCredential(err) {
			return u.blocked(obj, fmt.Sprintf("WeCom refused to hand over the customers of %s to %s (WeComConnection %q): %s", leaver, successor, connName, describe(err)))
		}
		return err
	}

	chats, err := u.handoverChats(ctx, api, leaver, successor, st)
	if err != nil {
		return refuse(err)
	}
	customers, err := u.handoverCustomers(ctx, api, leaver, successor, off.SuccessMessage)
	if err != nil {
		return refuse(err)
	}
	st.Customers, st.GroupChats = customers, chats
	st.Transferred, st.Waiting, st.Failed = 0, 0, 0
	for _, c := range customers {
		switch c.State {
		case v1.HandoverTransferred:
			st.Transferred++
		case v1.HandoverWaiting:
			st.Waiting++
		case v1.HandoverFailed:
			st.Failed++
		}
	}
	slices.SortStableFunc(st.Customers, func(a, b v1.CustomerHandover) int { return cmp.Compare(handoverRank(a.State), handoverRank(b.State)) })
	slices.SortStableFunc(st.GroupChats, func(a, b v1.GroupChatHandover) int { return cmp.Compare(handoverRank(a.State), handoverRank(b.State)) })
	st.Customers, st.GroupChats = clipList(st.Customers, v1.MaxOffboardingItems), clipList(st.GroupChats, v1.MaxOffboardingItems)
	obj.Status.Offboarding = st

	var failedChats []string
	for _, c := range chats {
		if c.State == v1.HandoverFailed {
			failedChats = append(failedChats, c.ChatID+" ("+c.Reason+")")
		}
	}
	if st.Failed > 0 || len(failedChats) > 0 {
		var parts []string
		if st.Failed > 0 {
			var bad []string
			for _, c := range customers {
				if c.State == v1.HandoverFailed {
					bad = append(bad, c.ExternalUserID+" ("+c.Reason+")")
				}
			}
			parts = append(parts, fmt.Sprintf("%d customers: %s", st.Failed, strings.Join(clipList(bad, 5), "; ")+more(len(bad), 5)))
		}
		if len(failedChats) > 0 {
			parts = append(parts, fmt.Sprintf("%d customer group chats: %s", len(failedChats), strings.Join(clipList(failedChats, 5), "; ")+more(len(failedChats), 5)))
		}
		return u.blocked(obj, fmt.Sprintf("WeCom refused to hand over %s of %s to %s (status.offboarding)", strings.Join(parts, " and "), leaver, successor))
	}
	if st.Waiting > 0 {
		next := time.Time{}
		for _, c := range customers {
			if c.State == v1.HandoverWaiting && c.TakeoverTime != nil && (next.IsZero() || c.TakeoverTime.Before(&metav1.Time{Time: next})) {
				next = c.TakeoverTime.Time
			}
		}
		msg := fmt.Sprintf("Handing over the customers of %s to %s: %d transferred, %d waiting for WeCom, which completes a handover 24 hours after it starts unless the customer refuses", leaver, successor, st.Transferred, st.Waiting)
		if !next.IsZero() {
			msg += fmt.Sprintf(" (the next at %s)", next.UTC().Format(time.RFC3339))
		}
		setCondition(obj, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonHandingOver, msg+"; the member is deleted afterwards")
		return &requeueError{after: u.handoverPoll()}
	}
	return nil
}

func (u *userClient) handoverPoll() time.Duration {
	if u.pollEvery > 0 && u.pollEvery < handoverMaxPoll {
		return u.pollEvery
	}
	return handoverMaxPoll
}

// blocked records a refused handover in Ready and blocks the delete.
func (u *userClient) blocked(obj *v1.WeComUser, msg string) error {
	msg += ". The member is not deleted, so that no customer is lost: fix the cause (the successor must be active, have customer contact and be in the app's visible range), hand these over in the admin console, remove spec.offboarding to delete the member anyway, or set deletionPolicy: Orphan to keep the member"
	setCondition(obj, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonHandoverRefused, msg)
	return &deleteBlockedError{err: &handoverRefusedError{msg: msg}}
}

func handoverRank(s v1.HandoverState) int {
	switch s {
	case v1.HandoverFailed:
		return 0
	case v1.HandoverWaiting:
		return 1
	}
	return 2
}

// handoverChats gives the leaver's customer group chats to the successor. Chats handed over
// earlier are no longer the leaver's, so they are kept from the status as it was.
func (u *userClient) handoverChats(ctx context.Context, api wecom.Succession, leaver, successor string, st *v1.OffboardingStatus) ([]v1.GroupChatHandover, error) {
	var owned []string
	for cursor := ""; ; {
		page, err := api.ListGroupChats(ctx, wecom.GroupChatListRequest{Owners: []string{leaver}, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, c := range page.Chats {
			owned = append(owned, c.ChatID)
		}
		if cursor = page.NextCursor; cursor == "" || len(page.Chats) == 0 {
			break
		}
	}
	state := map[string]v1.GroupChatHandover{}
	var order []string
	for _, c := range st.GroupChats {
		if c.State == v1.HandoverTransferred {
			state[c.ChatID] = c
			order = append(order, c.ChatID)
		}
	}
	for chunk := range slices.Chunk(owned, wecom.MaxTransferGroupChats) {
		failed, err := api.TransferGroupChats(ctx, chunk, successor)
		if err != nil {
			return nil, err
		}
		reasons := map[string]string{}
		for _, f := range failed {
			if f.ErrCode != wecom.ErrCodeChatOwnerSame { // already the successor's: done
				reasons[f.ChatID] = errcodeReason(f.ErrCode)
			}
		}
		for _, id := range chunk {
			h := v1.GroupChatHandover{ChatID: id, State: v1.HandoverTransferred}
			if r, bad := reasons[id]; bad {
				h.State, h.Reason = v1.HandoverFailed, r
			}
			if _, seen := state[id]; !seen {
				order = append(order, id)
			}
			state[id] = h
		}
	}
	out := make([]v1.GroupChatHandover, 0, len(order))
	for _, id := range order {
		out = append(out, state[id])
	}
	return out, nil
}

// handoverCustomers starts the handover of every customer of the leaver that has none going
// and reads where each stands. A customer whose handover WeCom already has (a retried call
// whose reply was lost) is not handed over twice: transfer_result lists it, and WeCom answers
// 40129 for it anyway.
func (u *userClient) handoverCustomers(ctx context.Context, api wecom.Succession, leaver, successor, msg string) ([]v1.CustomerHandover, error) {
	results, err := transferResults(ctx, api, leaver, successor)
	if err != nil {
		return nil, err
	}
	current, err := api.ListCustomers(ctx, leaver)
	if c := wecom.Code(err); c == wecom.ErrCodeInvalidUserID || c == wecom.ErrCodeUserIDNotFound {
		// The member is gone already (deleted by hand): WeCom keeps its customers as a
		// resigned member's, to be assigned in the admin console; nothing is left to do here.
		current, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	state := map[string]v1.CustomerHandover{}
	var order []string
	put := func(h v1.CustomerHandover) {
		if _, seen := state[h.ExternalUserID]; !seen {
			order = append(order, h.ExternalUserID)
		}
		state[h.ExternalUserID] = h
	}
	for _, r := range results {
		h := v1.CustomerHandover{ExternalUserID: r.ExternalUserID}
		if r.TakeoverTime > 0 {
			h.TakeoverTime = &metav1.Time{Time: time.Unix(r.TakeoverTime, 0)}
		}
		switch r.Status {
		case wecom.TransferDone:
			h.State = v1.HandoverTransferred
		case wecom.TransferWaiting:
			h.State = v1.HandoverWaiting
		case wecom.TransferRefused:
			h.State, h.Reason = v1.HandoverFailed, "transfer status 3: the customer refused the handover"
		case wecom.TransferTakeoverFull:
			h.State, h.Reason = v1.HandoverFailed, "transfer status 4: the successor has reached WeCom's limit of customers"
		default:
			h.State, h.Reason = v1.HandoverFailed, fmt.Sprintf("transfer status %d", r.Status)
		}
		put(h)
	}
	// A customer refused earlier and still with the leaver is not handed over again here:
	// the customer decided, and a person decides what next.
	var start []string
	for _, id := range current {
		if _, known := state[id]; !known {
			start = append(start, id)
		}
	}
	for chunk := range slices.Chunk(start, wecom.MaxTransferCustomers) {
		res, err := api.TransferCustomers(ctx, wecom.TransferCustomersRequest{Handover: leaver, Takeover: successor, ExternalUserIDs: chunk, SuccessMsg: msg})
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			h := v1.CustomerHandover{ExternalUserID: r.ExternalUserID, State: v1.HandoverWaiting}
			if r.ErrCode != 0 && r.ErrCode != wecom.ErrCodeTransferInProgress {
				h.State, h.Reason = v1.HandoverFailed, errcodeReason(r.ErrCode)
			}
			put(h)
		}
	}
	// Customers that failed before and are no longer the leaver's (handed over by hand)
	// are dropped; transferred ones stay listed.
	out := make([]v1.CustomerHandover, 0, len(order))
	for _, id := range order {
		h := state[id]
		if h.State == v1.HandoverFailed && !slices.Contains(current, id) {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

// transferResults reads every page of transfer_result from leaver to successor.
func transferResults(ctx context.Context, api wecom.Succession, leaver, successor string) ([]wecom.CustomerTransferStatus, error) {
	var out []wecom.CustomerTransferStatus
	for cursor := ""; ; {
		page, err := api.TransferResult(ctx, leaver, successor, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Customers...)
		if cursor = page.NextCursor; cursor == "" || len(page.Customers) == 0 {
			return out, nil
		}
	}
}

// errcodeReason renders a per-item errcode with its meaning and, when known, what to do.
func errcodeReason(code int) string {
	err := &wecom.APIError{Code: code}
	if hint := wecom.Hint(err); hint != "" {
		return fmt.Sprintf("errcode %d %s: %s", code, wecom.Meaning(code), hint)
	}
	return fmt.Sprintf("errcode %d %s", code, wecom.Meaning(code))
}
