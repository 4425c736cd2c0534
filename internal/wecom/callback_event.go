package wecom

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Events carried by WeCom callbacks (reference §13, "Event XML"). ParseCallbackEvent turns
// the plaintext that CallbackCrypto returns into one of the types below. String fields may
// hold personal data (names, mobiles, welcome codes): log ids only.

// Values of CallbackHeader.MsgType and CallbackHeader.Event.
const (
	CallbackMsgTypeEvent = "event"

	EventChangeContact         = "change_contact"
	EventChangeExternalContact = "change_external_contact"
	EventChangeExternalTag     = "change_external_tag"
	EventTemplateCard          = "template_card_event"
	EventTemplateCardMenu      = "template_card_menu_event"
)

// Values of CallbackHeader.ChangeType.
const (
	// change_contact
	ChangeCreateUser  = "create_user"
	ChangeUpdateUser  = "update_user"
	ChangeDeleteUser  = "delete_user"
	ChangeCreateParty = "create_party"
	ChangeUpdateParty = "update_party"
	ChangeDeleteParty = "delete_party"
	ChangeUpdateTag   = "update_tag"

	// change_external_contact
	ChangeAddExternalContact     = "add_external_contact"
	ChangeEditExternalContact    = "edit_external_contact"
	ChangeAddHalfExternalContact = "add_half_external_contact"
	ChangeDelExternalContact     = "del_external_contact"
	ChangeDelFollowUser          = "del_follow_user"
	ChangeTransferFail           = "transfer_fail"

	// change_external_tag
	ChangeCreate  = "create"
	ChangeUpdate  = "update"
	ChangeDelete  = "delete"
	ChangeShuffle = "shuffle"
)

// CallbackEvent is one parsed callback: *ContactUserEvent, *ContactPartyEvent,
// *ContactTagEvent, *ExternalContactEvent, *ExternalTagEvent, *TemplateCardEvent, or
// *OtherCallback for anything else (messages, menu clicks, change types this package does
// not model).
type CallbackEvent interface {
	// Header returns the fields every callback has.
	Header() *CallbackHeader
}

// CallbackHeader holds the fields every callback has. A field WeCom left out is zero.
type CallbackHeader struct {
	// ToUserName is the corp id (a suite id for third-party suite callbacks).
	ToUserName string
	// FromUserName is the acting member's userid, or "sys" for system events
	// (change_contact, change_external_contact, change_external_tag).
	FromUserName string
	// CreateTime is when WeCom made the callback, in Unix seconds.
	CreateTime int64
	// MsgType is "event" for events, "text" etc. for messages.
	MsgType string
	// Event is the event type, e.g. "change_contact"; empty for messages.
	Event string
	// ChangeType refines Event, e.g. "update_user"; empty for events without one.
	ChangeType string
	// AgentID is the app the callback belongs to; 0 for the contacts-sync callback.
	AgentID int64
	// MsgID is WeCom's id of a message; events have none.
	MsgID string
	// Identity identifies the callback for de-duplication of WeCom's retries; see
	// CallbackIdentity. Set by ParseCallbackEvent.
	Identity string
}

// Header returns h; events embed CallbackHeader, so every event has this method.
func (h *CallbackHeader) Header() *CallbackHeader { return h }

// ContactUserEvent is change_contact with create_user, update_user or delete_user. Only
// UserID is certain: delete_user has nothing else, update_user carries only what changed,
// and sync callbacks configured after 2022-08-15 carry only UserID and Department.
type ContactUserEvent struct {
	CallbackHeader
	UserID string
	// NewUserID is set when update_user changed the userid.
	NewUserID      string
	Name           string
	Department     []int
	MainDepartment int
	// IsLeaderInDept is parallel to Department.
	IsLeaderInDept []bool
	DirectLeader   []string
	Position       string
	Mobile         string
	// Gender is 1 male, 2 female, 0 unset.
	Gender  int
	Email   string
	BizMail string
	// Status is 1 active, 2 disabled, 4 not activated, 5 left.
	Status    int
	Avatar    string
	Alias     string
	Telephone string
	Address   string
	ExtAttr   []ContactExtAttr
}

// ContactExtAttr is one custom field of a member.
type ContactExtAttr struct {
	Name string
	// Type is 0 text (Text), 1 web (WebTitle, WebURL).
	Type     int
	Text     string
	WebTitle string
	WebURL   string
}

// ContactPartyEvent is change_contact with create_party, update_party or delete_party.
// delete_party carries only ID.
type ContactPartyEvent struct {
	CallbackHeader
	ID       int
	Name     string
	ParentID int
	Order    int
}

// ContactTagEvent is change_contact with update_tag: members and departments added to or
// removed from tag TagID. Tag events and user events are not ordered; re-read the tag.
type ContactTagEvent struct {
	CallbackHeader
	TagID         int
	AddUserItems  []string
	DelUserItems  []string
	AddPartyItems []int
	DelPartyItems []int
}

// ExternalContactEvent is change_external_contact. For add_external_contact, State is
// the state of the contact way the customer used, and WelcomeCode (absent when the admin
// configured a welcome message) can send one welcome message, once, within 20 s.
type ExternalContactEvent struct {
	CallbackHeader
	UserID         string
	ExternalUserID string
	State          string
	WelcomeCode    string
	// FailReason is set for transfer_fail.
	FailReason string
}

// ExternalTagEvent is change_external_tag: a customer tag or tag group was created,
// updated, deleted, or a group's tags were reordered (shuffle).
type ExternalTagEvent struct {
	CallbackHeader
	// ID is the tag or group id; for shuffle, the group whose tags were reordered.
	ID string
	// TagType is "tag" or "tag_group".
	TagType    string
	StrategyID int
}

// TemplateCardEvent is a click on an interactive template card (template_card_event) or on
// a card's menu (template_card_menu_event), delivered to the sending app's callback with
// FromUserName = the clicking member.
type TemplateCardEvent struct {
	CallbackHeader
	// EventKey is the key of the button or submit button clicked.
	EventKey string
	// TaskID is the card's task_id.
	TaskID   string
	CardType string
	// ResponseCode updates this member's copy of the card, once, within 72 h.
	ResponseCode  string
	SelectedItems []CardSelectedItem
}

// CardSelectedItem is the answer to one question of a vote, multiple or button-selection
// card.
type CardSelectedItem struct {
	QuestionKey string
	OptionIDs   []string
}

// OtherCallback is any callback this package does not model; only its header is parsed.
type OtherCallback struct {
	CallbackHeader
}

// callbackWire is every element the modelled callbacks use, as text: bare text and CDATA
// both arrive here (the official examples mix them).
type callbackWire struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	CreateTime   string `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Event        string `xml:"Event"`
	ChangeType   string `xml:"ChangeType"`
	AgentID      string `xml:"AgentID"`
	MsgID        string `xml:"MsgId"`

	UserID         string `xml:"UserID"`
	NewUserID      string `xml:"NewUserID"`
	Name           string `xml:"Name"`
	Department     string `xml:"Department"`
	MainDepartment string `xml:"MainDepartment"`
	IsLeaderInDept string `xml:"IsLeaderInDept"`
	DirectLeader   string `xml:"DirectLeader"`
	Position       string `xml:"Position"`
	Mobile         string `xml:"Mobile"`
	Gender         string `xml:"Gender"`
	Email          string `xml:"Email"`
	BizMail        string `xml:"BizMail"`
	Status         string `xml:"Status"`
	Avatar         string `xml:"Avatar"`
	Alias          string `xml:"Alias"`
	Telephone      string `xml:"Telephone"`
	Address        string `xml:"Address"`
	ExtAttr        struct {
		Item []struct {
			Name string `xml:"Name"`
			Type string `xml:"Type"`
			Text struct {
				Value string `xml:"Value"`
			} `xml:"Text"`
			Web struct {
				Title string `xml:"Title"`
				URL   string `xml:"Url"`
			} `xml:"Web"`
		} `xml:"Item"`
	} `xml:"ExtAttr"`

	ID       string `xml:"Id"`
	ParentID string `xml:"ParentId"`
	Order    string `xml:"Order"`

	TagID         string `xml:"TagId"`
	AddUserItems  string `xml:"AddUserItems"`
	DelUserItems  string `xml:"DelUserItems"`
	AddPartyItems string `xml:"AddPartyItems"`
	DelPartyItems string `xml:"DelPartyItems"`

	ExternalUserID string `xml:"ExternalUserID"`
	State          string `xml:"State"`
	WelcomeCode    string `xml:"WelcomeCode"`
	FailReason     string `xml:"FailReason"`
	TagType        string `xml:"TagType"`
	StrategyID     string `xml:"StrategyId"`

	EventKey      string `xml:"EventKey"`
	TaskID        string `xml:"TaskId"`
	CardType      string `xml:"CardType"`
	ResponseCode  string `xml:"ResponseCode"`
	SelectedItems struct {
		SelectedItem []struct {
			QuestionKey string `xml:"QuestionKey"`
			OptionIDs   struct {
				OptionID []string `xml:"OptionId"`
			} `xml:"OptionIds"`
		} `xml:"SelectedItem"`
	} `xml:"SelectedItems"`
}

// ParseCallbackEvent parses a decrypted callback and sets its Identity. An error wraps
// ErrMalformed and names the element, never its value.
func ParseCallbackEvent(plaintext []byte) (CallbackEvent, error) {
	var w callbackWire
	if err := xml.Unmarshal(plaintext, &w); err != nil {
		return nil, fmt.Errorf("%w: event is not XML", ErrMalformed)
	}
	identity, err := CallbackIdentity(plaintext)
	if err != nil {
		return nil, err
	}
	p := wireParser{}
	h := CallbackHeader{
		ToUserName:   w.ToUserName,
		FromUserName: w.FromUserName,
		CreateTime:   p.int64("CreateTime", w.CreateTime),
		MsgType:      w.MsgType,
		Event:        w.Event,
		ChangeType:   w.ChangeType,
		AgentID:      p.int64("AgentID", w.AgentID),
		MsgID:        w.MsgID,
		Identity:     identity,
	}
	ev := p.event(h, &w)
	if p.err != nil {
		return nil, p.err
	}
	return ev, nil
}

// wireParser converts text fields, keeping the first error so that conversions read as a
// list.
type wireParser struct{ err error }

func (p *wireParser) event(h CallbackHeader, w *callbackWire) CallbackEvent {
	if h.MsgType != CallbackMsgTypeEvent {
		return &OtherCallback{CallbackHeader: h}
	}
	switch h.Event {
	case EventChangeContact:
		switch h.ChangeType {
		case ChangeCreateUser, ChangeUpdateUser, ChangeDeleteUser:
			return p.user(h, w)
		case ChangeCreateParty, ChangeUpdateParty, ChangeDeleteParty:
			return &ContactPartyEvent{
				CallbackHeader: h,
				ID:             p.int("Id", w.ID),
				Name:           w.Name,
				ParentID:       p.int("ParentId", w.ParentID),
				Order:          p.int("Order", w.Order),
			}
		case ChangeUpdateTag:
			return &ContactTagEvent{
				CallbackHeader: h,
				TagID:          p.int("TagId", w.TagID),
				AddUserItems:   splitList(w.AddUserItems),
				DelUserItems:   splitList(w.DelUserItems),
				AddPartyItems:  p.ints("AddPartyItems", w.AddPartyItems),
				DelPartyItems:  p.ints("DelPartyItems", w.DelPartyItems),
			}
		}
	case EventChangeExternalContact:
		return &ExternalContactEvent{
			CallbackHeader: h,
			UserID:         w.UserID,
			ExternalUserID: w.ExternalUserID,
			State:          w.State,
			WelcomeCode:    w.WelcomeCode,
			FailReason:     w.FailReason,
		}
	case EventChangeExternalTag:
		return &ExternalTagEvent{
			CallbackHeader: h,
			ID:             w.ID,
			TagType:        w.TagType,
			StrategyID:     p.int("StrategyId", w.StrategyID),
		}
	case EventTemplateCard, EventTemplateCardMenu:
		ev := &TemplateCardEvent{
			CallbackHeader: h,
			EventKey:       w.EventKey,
			TaskID:         w.TaskID,
			CardType:       w.CardType,
			ResponseCode:   w.ResponseCode,
		}
		for _, it := range w.SelectedItems.SelectedItem {
			ev.SelectedItems = append(ev.SelectedItems, CardSelectedItem{QuestionKey: it.QuestionKey, OptionIDs: it.OptionIDs.OptionID})
		}
		return ev
	}
	return &OtherCallback{CallbackHeader: h}
}

func (p *wireParser) user(h CallbackHeader, w *callbackWire) *ContactUserEvent {
	ev := &ContactUserEvent{
		CallbackHeader: h,
		UserID:         w.UserID,
		NewUserID:      w.NewUserID,
		Name:           w.Name,
		Department:     p.ints("Department", w.Department),
		MainDepartment: p.int("MainDepartment", w.MainDepartment),
		IsLeaderInDept: p.bools("IsLeaderInDept", w.IsLeaderInDept),
		DirectLeader:   splitList(w.DirectLeader),
		Position:       w.Position,
		Mobile:         w.Mobile,
		Gender:         p.int("Gender", w.Gender),
		Email:          w.Email,
		BizMail:        w.BizMail,
		Status:         p.int("Status", w.Status),
		Avatar:         w.Avatar,
		Alias:          w.Alias,
		Telephone:      w.Telephone,
		Address:        w.Address,
	}
	for _, it := range w.ExtAttr.Item {
		ev.ExtAttr = append(ev.ExtAttr, ContactExtAttr{
			Name:     it.Name,
			Type:     p.int("ExtAttr.Type", it.Type),
			Text:     it.Text.Value,
			WebTitle: it.Web.Title,
			WebURL:   it.Web.URL,
		})
	}
	return ev
}

func (p *wireParser) int64(element, s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("%w: %s is not an integer", ErrMalformed, element)
	}
	return n
}

func (p *wireParser) int(element, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("%w: %s is not an integer", ErrMalformed, element)
	}
	return n
}

// ints parses a comma-separated id list ("1,2,3").
func (p *wireParser) ints(element, s string) []int {
	var out []int
	for _, part := range splitList(s) {
		out = append(out, p.int(element, part))
	}
	return out
}

// bools parses a comma-separated 0/1 list ("1,0,0").
func (p *wireParser) bools(element, s string) []bool {
	var out []bool
	for _, part := range splitList(s) {
		if part != "0" && part != "1" && p.err == nil {
			p.err = fmt.Errorf("%w: %s is not a list of 0 and 1", ErrMalformed, element)
		}
		out = append(out, part == "1")
	}
	return out
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// CallbackIdentity returns the identity of a decrypted callback, for de-duplicating the
// deliveries WeCom retries (reference §13: a delivery not answered with HTTP 200 within
// 5 s is retried, up to three times; exact count and spacing unconfirmed).
//
//   - A message (it has MsgId) is "msg/<AgentID>/<MsgId>", as WeCom documents.
//   - An event is "<Event>/<ChangeType>/<CreateTime>/<digest>", the digest being SHA-256
//     over every leaf element's path and trimmed text, sorted. WeCom documents
//     FromUserName+CreateTime for events, but that merges distinct events: system events
//     all come from "sys", a new member fires create_user and update_user in the same
//     second, and two customers added in one second differ only in ExternalUserID. A retry
//     re-sends the same event, so every field is equal; two events that differ in any field
//     stay apart. That retries carry identical fields is unconfirmed (it is what receivers
//     report); if one ever differed, it would be handled twice, so effects that must happen
//     once (a welcome message) should also be keyed on their subject.
//
// The identity holds no personal data beyond ids and types. An error wraps ErrMalformed.
func CallbackIdentity(plaintext []byte) (string, error) {
	leaves, err := callbackLeaves(plaintext)
	if err != nil {
		return "", err
	}
	get := func(name string) string {
		for _, l := range leaves {
			if l.path == "/"+name {
				return l.text
			}
		}
		return ""
	}
	if id := get("MsgId"); id != "" {
		return "msg/" + get("AgentID") + "/" + id, nil
	}
	kind := get("Event")
	if kind == "" {
		kind = get("MsgType")
	}
	slices.SortFunc(leaves, func(a, b callbackLeaf) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	sum := sha256.New()
	for _, l := range leaves {
		for _, s := range []string{l.path, l.text} {
			_ = binary.Write(sum, binary.BigEndian, uint32(len(s)))
			_, _ = io.WriteString(sum, s)
		}
	}
	return fmt.Sprintf("%s/%s/%s/%x", kind, get("ChangeType"), get("CreateTime"), sum.Sum(nil)[:16]), nil
}

type callbackLeaf struct{ path, text string }

// callbackLeaves lists every element without child elements below the root, with its
// path from the root ("/ExtAttr/Item/Name") and its trimmed text.
func callbackLeaves(plaintext []byte) ([]callbackLeaf, error) {
	d := xml.NewDecoder(bytes.NewReader(plaintext))
	type open struct {
		path   string
		text   strings.Builder
		parent bool
	}
	var stack []*open
	var leaves []callbackLeaf
	roots := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: event is not XML", ErrMalformed)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path := ""
			if n := len(stack); n > 0 {
				stack[n-1].parent = true
				path = stack[n-1].path + "/" + t.Name.Local
			} else {
				roots++
			}
			stack = append(stack, &open{path: path})
		case xml.CharData:
			if n := len(stack); n > 0 {
				stack[n-1].text.Write(t)
			}
		case xml.EndElement:
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && !top.parent {
				leaves = append(leaves, callbackLeaf{top.path, strings.TrimSpace(top.text.String())})
			}
		}
	}
	if roots != 1 || len(stack) != 0 {
		return nil, fmt.Errorf("%w: event is not one XML document", ErrMalformed)
	}
	return leaves, nil
}
