package wecomsim

import (
	"regexp"
	"slices"
)

// template_card (§7, §8). Only the structural rules the reference lists are
// checked, each with the field-specific 42xxx code from the global table.

type cardAction struct {
	Type     optInt    `json:"type"`
	URL      optString `json:"url"`
	AppID    optString `json:"appid"`
	PagePath optString `json:"pagepath"`
}

type cardTitle struct {
	Title optString `json:"title"`
	Desc  optString `json:"desc"`
}

type cardKV struct {
	Type     optInt    `json:"type"`
	KeyName  optString `json:"keyname"`
	Value    optString `json:"value"`
	URL      optString `json:"url"`
	MediaID  optString `json:"media_id"`
	UserID   optString `json:"userid"`
	Title    optString `json:"title"`
	AppID    optString `json:"appid"`
	PagePath optString `json:"pagepath"`
}

type cardButton struct {
	Type  optInt    `json:"type"`
	Text  optString `json:"text"`
	Style optInt    `json:"style"`
	Key   optString `json:"key"`
	URL   optString `json:"url"`
}

// cardOption is one option of a checkbox, select_list or button_selection.
type cardOption struct {
	ID        optString `json:"id"`
	Text      optString `json:"text"`
	IsChecked optBool   `json:"is_checked"`
}

type cardQuestion struct {
	QuestionKey optString    `json:"question_key"`
	Title       optString    `json:"title"`
	SelectedID  optString    `json:"selected_id"`
	OptionList  []cardOption `json:"option_list"`
	Mode        optInt       `json:"mode"`
}

type cardMenuAction struct {
	Text optString `json:"text"`
	Key  optString `json:"key"`
}

type templateCard struct {
	CardType   optString `json:"card_type"`
	TaskID     optString `json:"task_id"`
	ActionMenu *struct {
		Desc       optString        `json:"desc"`
		ActionList []cardMenuAction `json:"action_list"`
	} `json:"action_menu"`
	MainTitle    *cardTitle `json:"main_title"`
	SubTitleText optString  `json:"sub_title_text"`
	CardImage    *struct {
		URL optString `json:"url"`
	} `json:"card_image"`
	ImageTextArea *struct {
		ImageURL optString `json:"image_url"`
	} `json:"image_text_area"`
	HorizontalContentList []cardKV       `json:"horizontal_content_list"`
	JumpList              []cardKV       `json:"jump_list"`
	VerticalContentList   []cardTitle    `json:"vertical_content_list"`
	CardAction            *cardAction    `json:"card_action"`
	ButtonList            []cardButton   `json:"button_list"`
	ButtonSelection       *cardQuestion  `json:"button_selection"`
	Checkbox              *cardQuestion  `json:"checkbox"`
	SelectList            []cardQuestion `json:"select_list"`
	SubmitButton          *cardButton    `json:"submit_button"`
}

var taskIDPattern = regexp.MustCompile(`^[0-9A-Za-z_\-@]{1,128}$`)

// Interactive card types carry a task_id, get a response_code and need the
// app's callback URL (43012).
var interactiveCards = []string{"button_interaction", "vote_interaction", "multiple_interaction"}

// Key and id limits of interactive cards (§14), in bytes.
const (
	maxCardKeyBytes      = 1024 // button key, question_key, action_menu key
	maxCardOptionIDBytes = 128
	maxSelectionOptions  = 10 // button_selection.option_list
)

// callsBack reports whether a card can call back, and so be recorded,
// clicked and updated with update_template_card: the interactive types and
// notice cards with an action_menu (§14, DOC-94945).
func (t *templateCard) callsBack() bool {
	return t != nil && (slices.Contains(interactiveCards, t.CardType.v) || t.ActionMenu != nil)
}

func checkTemplateCard(t *templateCard, channel string) *apiError {
	if t == nil {
		return errCodef(codeInvalidParam, "template_card missing")
	}
	ct := t.CardType.v
	allowed := append([]string{"text_notice", "news_notice"}, interactiveCards...)
	if channel == chanWebhook {
		allowed = allowed[:2] // robots send only notice cards (§8)
	}
	if !slices.Contains(allowed, ct) {
		return errCodef(codeInvalidParam, "card_type %q not supported on %s", ct, channel)
	}
	if e := checkCardTask(t, ct); e != nil {
		return e
	}
	if e := checkCardLists(t); e != nil {
		return e
	}
	switch ct {
	case "text_notice", "news_notice":
		return checkNoticeCard(t, ct, channel)
	case "button_interaction":
		return checkButtons(t)
	case "vote_interaction":
		return checkVote(t)
	case "multiple_interaction":
		return checkMultiple(t)
	}
	return nil
}

// checkCardTask: task_id is required with an action_menu and for every
// interactive card; ≤128 bytes of [0-9A-Za-z_-@].
func checkCardTask(t *templateCard, ct string) *apiError {
	needTask := slices.Contains(interactiveCards, ct)
	if t.ActionMenu != nil {
		if n := len(t.ActionMenu.ActionList); n < 1 || n > maxActionMenuItems {
			return errCodef(codeInvalidParam, "action_menu.action_list needs 1-%d items", maxActionMenuItems)
		}
		seen := map[string]bool{}
		for _, a := range t.ActionMenu.ActionList {
			// Only the conflict has a code of its own (42051); a missing or
			// over-long key is reported with it too (unconfirmed).
			if k := a.Key.v; k == "" || len(k) > maxCardKeyBytes || seen[k] {
				return errCodef(codeCardMenuKey, "action_menu key %q missing, over %d bytes or repeated", truncateRunes(k, 40), maxCardKeyBytes)
			}
			seen[a.Key.v] = true
		}
		needTask = true
	}
	if t.TaskID.v == "" {
		if needTask {
			return errCodef(codeCardTaskID, "task_id required")
		}
		return nil
	}
	if !taskIDPattern.MatchString(t.TaskID.v) {
		return errCodef(codeCardTaskID, "task_id %q", t.TaskID.v)
	}
	return nil
}

func checkCardLists(t *templateCard) *apiError {
	if len(t.HorizontalContentList) > maxHorizontalItems {
		return errCode(codeCardHorizontal)
	}
	for _, h := range t.HorizontalContentList {
		if h.KeyName.v == "" {
			return errCode(codeCardKeyName)
		}
		switch h.Type.v {
		case 1:
			if h.URL.v == "" {
				return errCode(codeCardMissingURL)
			}
		case 2:
			if h.MediaID.v == "" {
				return errCode(codeCardMediaID)
			}
		case 3:
			if h.UserID.v == "" {
				return errCode(codeCardUserID)
			}
		}
	}
	if len(t.JumpList) > maxJumpItems {
		return errCodef(codeInvalidParam, "jump_list has more than %d items", maxJumpItems)
	}
	for _, j := range t.JumpList {
		if e := checkJump(j); e != nil {
			return e
		}
	}
	if len(t.VerticalContentList) > maxVerticalItems {
		return errCode(codeCardVertical)
	}
	for _, v := range t.VerticalContentList {
		if v.Title.v == "" {
			return errCode(codeCardMissingTitle)
		}
	}
	return nil
}

func checkJump(j cardKV) *apiError {
	if j.Title.v == "" {
		return errCode(codeCardMissingTitle)
	}
	switch j.Type.v {
	case 1:
		if j.URL.v == "" {
			return errCode(codeCardMissingURL)
		}
	case 2:
		if j.AppID.v == "" {
			return errCode(codeCardMissingAppID)
		}
	}
	return nil
}

// checkAction validates card_action; required says whether it must exist
// with type 1 or 2 (notice cards).
func checkAction(a *cardAction, required bool) *apiError {
	if a == nil {
		if required {
			return errCodef(codeCardActionInvalid, "card_action required")
		}
		return nil
	}
	switch a.Type.v {
	case 1:
		if a.URL.v == "" {
			return errCode(codeCardMissingURL)
		}
	case 2:
		if a.AppID.v == "" {
			return errCode(codeCardMissingAppID)
		}
	case 0:
		if required {
			return errCodef(codeCardActionInvalid, "card_action.type must be 1 or 2")
		}
	default:
		return errCodef(codeCardActionInvalid, "card_action.type %d", a.Type.v)
	}
	return nil
}

// checkNoticeCard: card_action required; text_notice needs main_title.title
// or sub_title_text; news_notice needs main_title.title and card_image.url
// or image_text_area.image_url. Robots always need main_title (§8).
func checkNoticeCard(t *templateCard, ct, channel string) *apiError {
	if e := checkAction(t.CardAction, true); e != nil {
		return e
	}
	hasTitle := t.MainTitle != nil && t.MainTitle.Title.v != ""
	switch {
	case channel == chanWebhook && !hasTitle:
		return errCodef(codeCardMissingTitle, "main_title.title required")
	case ct == "text_notice" && !hasTitle && t.SubTitleText.v == "":
		return errCodef(codeCardMissingTitle, "main_title.title or sub_title_text required")
	case ct == "news_notice" && !hasTitle:
		return errCodef(codeCardMissingTitle, "main_title.title required")
	}
	if ct == "news_notice" {
		hasImage := t.CardImage != nil && t.CardImage.URL.v != ""
		hasArea := t.ImageTextArea != nil && t.ImageTextArea.ImageURL.v != ""
		if !hasImage && !(hasArea && channel != chanWebhook) {
			return errCodef(codeCardImageInvalid, "card_image.url or image_text_area.image_url required")
		}
	}
	return nil
}

// checkButtons: button_list 1..6 (40058: the reference gives no code);
// text required (42038); type 0 (callback, the default) needs a key of at
// most 1024 bytes, unique in the card (42039); type 1 needs a url (42028).
// A style outside 1-4 is shown as 1, not rejected. An optional
// button_selection is checked like a question.
func checkButtons(t *templateCard) *apiError {
	if e := checkAction(t.CardAction, false); e != nil {
		return e
	}
	if n := len(t.ButtonList); n < 1 || n > maxButtonItems {
		return errCodef(codeInvalidParam, "button_list needs 1-%d buttons", maxButtonItems)
	}
	keys := map[string]bool{}
	for _, b := range t.ButtonList {
		if b.Text.v == "" {
			return errCode(codeCardButtonText)
		}
		switch {
		case b.Type.v == 1:
			if b.URL.v == "" {
				return errCode(codeCardMissingURL)
			}
		case b.Key.v == "" || len(b.Key.v) > maxCardKeyBytes:
			return errCodef(codeCardButtonKey, "button key missing or over %d bytes", maxCardKeyBytes)
		case keys[b.Key.v]:
			return errCodef(codeCardButtonKey, "button key %q repeated", truncateRunes(b.Key.v, 40))
		}
		keys[b.Key.v] = true
	}
	if t.ButtonSelection != nil {
		return checkQuestion(t.ButtonSelection, "button_selection", maxSelectionOptions)
	}
	return nil
}

// checkQuestion: question_key required, ≤1024 bytes (42043); 1..max
// options (42037), each with an id of at most 128 bytes unique in the
// question (42040) and a text (42041).
func checkQuestion(q *cardQuestion, what string, maxOptions int) *apiError {
	if k := q.QuestionKey.v; k == "" || len(k) > maxCardKeyBytes {
		return errCodef(codeCardQuestionKey, "%s.question_key missing or over %d bytes", what, maxCardKeyBytes)
	}
	if n := len(q.OptionList); n < 1 || n > maxOptions {
		return errCodef(codeCardOptionCount, "%s.option_list needs 1-%d options", what, maxOptions)
	}
	ids := map[string]bool{}
	for _, o := range q.OptionList {
		if id := o.ID.v; id == "" || len(id) > maxCardOptionIDBytes || ids[id] {
			return errCodef(codeCardOptionID, "%s option id %q missing, over %d bytes or repeated", what, truncateRunes(id, 40), maxCardOptionIDBytes)
		}
		ids[o.ID.v] = true
		if o.Text.v == "" {
			return errCodef(codeCardOptionText, "%s option %q has no text", what, o.ID.v)
		}
	}
	return nil
}

// checkSubmit: submit_button needs a text (42049) and a key of at most
// 1024 bytes (42046).
func checkSubmit(b *cardButton) *apiError {
	if b == nil || b.Text.v == "" {
		return errCode(codeCardSubmitText)
	}
	if b.Key.v == "" || len(b.Key.v) > maxCardKeyBytes {
		return errCode(codeCardSubmitKey)
	}
	return nil
}

func checkVote(t *templateCard) *apiError {
	if t.Checkbox == nil {
		return errCodef(codeCardQuestionKey, "checkbox missing")
	}
	if e := checkQuestion(t.Checkbox, "checkbox", maxVoteOptions); e != nil {
		return e
	}
	return checkSubmit(t.SubmitButton)
}

func checkMultiple(t *templateCard) *apiError {
	if n := len(t.SelectList); n < 1 || n > maxSelectLists {
		return errCodef(codeCardSelectList, "select_list needs 1-%d items", maxSelectLists)
	}
	keys := map[string]bool{}
	for i := range t.SelectList {
		q := &t.SelectList[i]
		if e := checkQuestion(q, "select_list", maxSelectOptions); e != nil {
			return e
		}
		if keys[q.QuestionKey.v] {
			return errCodef(codeCardQuestionKey, "select_list question_key %q repeated", truncateRunes(q.QuestionKey.v, 40))
		}
		keys[q.QuestionKey.v] = true
	}
	return checkSubmit(t.SubmitButton)
}
