package wecomsim

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Event plaintexts (reference §13 "Event XML"), written as the official
// examples are: string fields in CDATA, numbers bare.

// callbackEvent is one event ready to be pushed: its plaintext plus the
// ids the delivery log shows.
type callbackEvent struct {
	event, changeType string
	userID, newUserID string
	externalUserID    string
	taskID, eventKey  string
	partyID           int64
	createTime        int64
	identity          string
	plaintext         []byte
}

// eventBuilder writes one event plaintext.
type eventBuilder struct {
	ev callbackEvent
	b  strings.Builder
}

// newEvent starts a system event (FromUserName "sys", ToUserName the corp
// id) at the simulator's current time. Callers hold s.mu.
func (s *Sim) newEvent(event, changeType string) *eventBuilder {
	x := &eventBuilder{ev: callbackEvent{event: event, changeType: changeType, createTime: s.Now().Unix()}}
	x.b.WriteString("<xml>")
	x.text("ToUserName", s.corp.ID)
	x.text("FromUserName", "sys")
	x.num("CreateTime", x.ev.createTime)
	x.text("MsgType", wecom.CallbackMsgTypeEvent)
	x.text("Event", event)
	x.text("ChangeType", changeType)
	return x
}

// text writes a string element as CDATA (a "]]>" inside is split across
// two sections, as XML requires).
func (x *eventBuilder) text(name, v string) {
	x.b.WriteString("<" + name + "><![CDATA[")
	x.b.WriteString(strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>"))
	x.b.WriteString("]]></" + name + ">")
}

func (x *eventBuilder) num(name string, v int64) {
	x.b.WriteString("<" + name + ">" + strconv.FormatInt(v, 10) + "</" + name + ">")
}

// done closes the document and computes the identity receivers dedupe by.
func (x *eventBuilder) done() *callbackEvent {
	x.b.WriteString("</xml>")
	x.ev.plaintext = []byte(x.b.String())
	x.ev.identity, _ = wecom.CallbackIdentity(x.ev.plaintext) // well-formed by construction
	return &x.ev
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// ---- change_contact ----
//
// Contact events go to the 通讯录同步 (contacts-sync) callback only, i.e.
// the callback saved for agent id 0. Whether ordinary self-built apps also
// get update_user for members in their visible range is unconfirmed (§13);
// the simulator does not send it to them.
//
// Every callback URL is saved "today", so the rule for URLs configured or
// changed after 2022-08-15 always applies: user events carry only UserID
// (NewUserID when the userid changed) and Department/MainDepartment, party
// events only Id/ParentId, and update_party fires only when ParentId
// changed.

// userEvent builds create_user/update_user/delete_user. withDepts adds
// Department and MainDepartment.
func (s *Sim) userEvent(changeType string, userID, newUserID string, u *User, withDepts bool) *callbackEvent {
	x := s.newEvent(wecom.EventChangeContact, changeType)
	x.ev.userID, x.ev.newUserID = userID, newUserID
	x.text("UserID", userID)
	if newUserID != "" {
		x.text("NewUserID", newUserID)
	}
	if withDepts && u != nil {
		if len(u.Department) > 0 {
			x.text("Department", joinIDs(u.Department))
		}
		if u.MainDepartment != 0 {
			x.num("MainDepartment", u.MainDepartment)
		}
	}
	return x.done()
}

// partyEvent builds create_party/update_party (with ParentId) and
// delete_party (parent < 0: without).
func (s *Sim) partyEvent(changeType string, id, parent int64) *callbackEvent {
	x := s.newEvent(wecom.EventChangeContact, changeType)
	x.ev.partyID = id
	x.num("Id", id)
	if parent >= 0 {
		x.num("ParentId", parent)
	}
	return x.done()
}

// tagEvent builds update_tag: TagId and the comma-separated members and departments
// added and removed, each left out when empty (DOC-96304).
func (s *Sim) tagEvent(id int64, addUsers, delUsers []string, addParties, delParties []int64) *callbackEvent {
	x := s.newEvent(wecom.EventChangeContact, wecom.ChangeUpdateTag)
	x.num("TagId", id)
	for _, f := range []struct {
		name string
		v    string
	}{
		{"AddUserItems", strings.Join(addUsers, ",")},
		{"DelUserItems", strings.Join(delUsers, ",")},
		{"AddPartyItems", joinIDs(addParties)},
		{"DelPartyItems", joinIDs(delParties)},
	} {
		if f.v != "" {
			x.text(f.name, f.v)
		}
	}
	return x.done()
}

// pushContactEvents sends change_contact events to the contacts-sync
// callback, in order, and returns their delivery seqs. Callers hold s.mu.
func (s *Sim) pushContactEvents(evs ...*callbackEvent) []int64 {
	seqs := []int64{}
	cfg := s.callbacks[0]
	if cfg == nil {
		return seqs
	}
	for _, ev := range evs {
		if seq := s.push(cfg, ev); seq != 0 {
			seqs = append(seqs, seq)
		}
	}
	return seqs
}

// ---- change_external_contact ----

// externalContactEvent builds add_external_contact. The plaintext follows
// the DOC-96361 example, which has no AgentID element; the app is named by
// the envelope's AgentID. State is left out when the way has none
// (unconfirmed: WeCom may send it empty).
func (s *Sim) externalContactEvent(changeType, userID, externalUserID, state, welcomeCode string) *callbackEvent {
	x := s.newEvent(wecom.EventChangeExternalContact, changeType)
	x.ev.userID, x.ev.externalUserID = userID, externalUserID
	x.text("UserID", userID)
	x.text("ExternalUserID", externalUserID)
	if state != "" {
		x.text("State", state)
	}
	if welcomeCode != "" {
		x.text("WelcomeCode", welcomeCode)
	}
	return x.done()
}

// pushCustomerEvent sends a change_external_contact event to every app
// that may receive it: apps with customer-contact permission (客户联系 →
// 可调用接口的应用) and a saved callback, and whose visible range includes
// the member (DOC-96360/96361: "only customers of members in the app's
// visible range"). Callers hold s.mu.
func (s *Sim) pushCustomerEvent(member *User, ev *callbackEvent) []int64 {
	seqs := []int64{}
	cfgs := make([]*callbackConfig, 0, len(s.callbacks))
	for _, c := range s.callbacks {
		cfgs = append(cfgs, c)
	}
	slices.SortFunc(cfgs, func(a, b *callbackConfig) int { return cmp.Compare(a.agentID, b.agentID) })
	for _, cfg := range cfgs {
		app := s.appByAgentLocked(cfg.agentID)
		if app == nil || permCustomerContact(app) != 0 || !s.visibleTo(app, member) {
			continue
		}
		if seq := s.push(cfg, ev); seq != 0 {
			seqs = append(seqs, seq)
		}
	}
	return seqs
}
