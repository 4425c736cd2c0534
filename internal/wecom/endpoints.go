package wecom

import "net/http"

// Endpoint paths below /cgi-bin/. They are what APIError.API and the metric labels carry.
const (
	apiGetToken = "gettoken"
	// Customer succession (issue 12, offboarding).
	apiExternalList           = "externalcontact/list"
	apiTransferCustomer       = "externalcontact/transfer_customer"
	apiTransferResult         = "externalcontact/transfer_result"
	apiGroupChatList          = "externalcontact/groupchat/list"
	apiGroupChatOnjobTransfer = "externalcontact/groupchat/onjob_transfer"

	apiDepartmentCreate     = "department/create"
	apiDepartmentUpdate     = "department/update"
	apiDepartmentDelete     = "department/delete"
	apiDepartmentList       = "department/list"
	apiDepartmentSimpleList = "department/simplelist"
	apiDepartmentGet        = "department/get"
	apiUserCreate           = "user/create"
	apiUserUpdate           = "user/update"
	apiUserDelete           = "user/delete"
	apiUserGet              = "user/get"
	apiUserListID           = "user/list_id"
	apiUserSimpleList       = "user/simplelist"
	apiTagCreate            = "tag/create"
	apiTagUpdate            = "tag/update"
	apiTagDelete            = "tag/delete"
	apiTagGet               = "tag/get"
	apiTagAddUsers          = "tag/addtagusers"
	apiTagDelUsers          = "tag/deltagusers"
	apiTagList              = "tag/list"
	apiAppChatCreate        = "appchat/create"
	apiAppChatUpdate        = "appchat/update"
	apiAppChatGet           = "appchat/get"
	apiAppChatSend          = "appchat/send"
	apiAddContactWay        = "externalcontact/add_contact_way"
	apiGetContactWay        = "externalcontact/get_contact_way"
	apiUpdateContactWay     = "externalcontact/update_contact_way"
	apiDelContactWay        = "externalcontact/del_contact_way"
	apiListContactWay       = "externalcontact/list_contact_way"
	apiSendWelcomeMsg       = "externalcontact/send_welcome_msg"
	apiCalendarAdd          = "oa/calendar/add"
	apiCalendarUpdate       = "oa/calendar/update"
	apiCalendarGet          = "oa/calendar/get"
	apiCalendarDel          = "oa/calendar/del"
	apiScheduleAdd          = "oa/schedule/add"
	apiScheduleUpdate       = "oa/schedule/update"
	apiScheduleGet          = "oa/schedule/get"
	apiScheduleByCalendar   = "oa/schedule/get_by_calendar"
	apiScheduleDel          = "oa/schedule/del"
	apiMessageSend          = "message/send"
	apiMessageRecall        = "message/recall"
	apiUpdateTemplateCard   = "message/update_template_card"
	apiWebhookSend          = "webhook/send"

	// §11 customer corp tags and group welcome templates (corptag.go, welcometemplate.go).
	apiGetCorpTagList           = "externalcontact/get_corp_tag_list"
	apiAddCorpTag               = "externalcontact/add_corp_tag"
	apiEditCorpTag              = "externalcontact/edit_corp_tag"
	apiDelCorpTag               = "externalcontact/del_corp_tag"
	apiGroupWelcomeTemplateAdd  = "externalcontact/group_welcome_template/add"
	apiGroupWelcomeTemplateEdit = "externalcontact/group_welcome_template/edit"
	apiGroupWelcomeTemplateGet  = "externalcontact/group_welcome_template/get"
	apiGroupWelcomeTemplateDel  = "externalcontact/group_welcome_template/del"
)

// §12 apps and menus.
const (
	apiAgentGet   = "agent/get"
	apiAgentList  = "agent/list"
	apiAgentSet   = "agent/set"
	apiMenuCreate = "menu/create"
	apiMenuGet    = "menu/get"
	apiMenuDelete = "menu/delete"
)

// endpoint describes one API. write marks calls that change WeCom, for which a failure after
// the request went out is ambiguous (CallError.Ambiguous).
type endpoint struct {
	path   string
	method string
	write  bool
	// once marks writes that WeCom does not deduplicate: repeating one that was applied
	// makes a second object or message. After an ambiguous failure such a call is not
	// retried; the caller gets the ambiguous error and decides (observe, adopt, or report).
	once bool
}

func get(path string) endpoint      { return endpoint{path: path, method: http.MethodGet} }
func getWrite(path string) endpoint { return endpoint{path: path, method: http.MethodGet, write: true} }
func post(path string) endpoint     { return endpoint{path: path, method: http.MethodPost} }
func postWrite(path string) endpoint {
	return endpoint{path: path, method: http.MethodPost, write: true}
}
func postOnce(path string) endpoint {
	return endpoint{path: path, method: http.MethodPost, write: true, once: true}
}

var (
	epGetToken = get(apiGetToken)
	// Customer succession (issue 12, offboarding). A repeated transfer_customer gets 40129
	// per customer and a repeated onjob_transfer 90504 per chat: nothing is done twice.
	epExternalList           = get(apiExternalList)
	epTransferCustomer       = postWrite(apiTransferCustomer)
	epTransferResult         = post(apiTransferResult) // a POST that only reads
	epGroupChatList          = post(apiGroupChatList)  // a POST that only reads
	epGroupChatOnjobTransfer = postWrite(apiGroupChatOnjobTransfer)

	epDepartmentCreate     = postWrite(apiDepartmentCreate)
	epDepartmentUpdate     = postWrite(apiDepartmentUpdate)
	epDepartmentDelete     = getWrite(apiDepartmentDelete) // a GET that deletes (§2)
	epDepartmentList       = get(apiDepartmentList)
	epDepartmentSimpleList = get(apiDepartmentSimpleList)
	epDepartmentGet        = get(apiDepartmentGet)
	epUserCreate           = postWrite(apiUserCreate)
	epUserUpdate           = postWrite(apiUserUpdate)
	epUserDelete           = getWrite(apiUserDelete) // a GET that deletes (§3)
	epUserGet              = get(apiUserGet)
	epUserListID           = post(apiUserListID) // a POST that only reads
	epUserSimpleList       = get(apiUserSimpleList)
	epTagCreate            = postWrite(apiTagCreate) // a repeat gets 40071 for its name
	epTagUpdate            = postWrite(apiTagUpdate)
	epTagDelete            = getWrite(apiTagDelete) // a GET that deletes (§10)
	epTagGet               = get(apiTagGet)
	epTagAddUsers          = postWrite(apiTagAddUsers)
	epTagDelUsers          = postWrite(apiTagDelUsers)
	epTagList              = get(apiTagList)
	epAppChatCreate        = postWrite(apiAppChatCreate) // with a chatid: a repeat gets 86215
	epAppChatCreateOnce    = postOnce(apiAppChatCreate)  // without one: a repeat makes a second chat
	epAppChatUpdate        = postWrite(apiAppChatUpdate)
	epAppChatGet           = get(apiAppChatGet)
	epAppChatSend          = postOnce(apiAppChatSend)
	epAddContactWay        = postOnce(apiAddContactWay)
	epGetContactWay        = post(apiGetContactWay)
	epUpdateContactWay     = postWrite(apiUpdateContactWay)
	epDelContactWay        = postWrite(apiDelContactWay)
	epListContactWay       = post(apiListContactWay)
	epSendWelcomeMsg       = postWrite(apiSendWelcomeMsg) // single-use code: a repeat gets 41051, no second message
	epCalendarAdd          = postOnce(apiCalendarAdd)
	epCalendarUpdate       = postWrite(apiCalendarUpdate)
	epCalendarGet          = post(apiCalendarGet)
	epCalendarDel          = postWrite(apiCalendarDel)
	epScheduleAdd          = postOnce(apiScheduleAdd)
	epScheduleUpdate       = postWrite(apiScheduleUpdate)
	epScheduleGet          = post(apiScheduleGet)
	epScheduleByCalendar   = post(apiScheduleByCalendar)
	epScheduleDel          = postWrite(apiScheduleDel)
	epMessageSend          = postWrite(apiMessageSend) // with enable_duplicate_check: WeCom drops a repeat
	epMessageSendOnce      = postOnce(apiMessageSend)  // without it: a repeat is delivered twice
	epMessageRecall        = postWrite(apiMessageRecall)
	// A repeat after an applied attempt gets 60140 (the response code is single-use): no
	// second update.
	epMessageUpdateTemplateCard = postWrite(apiUpdateTemplateCard)
	epWebhookSend               = postOnce(apiWebhookSend)

	// §11 customer corp tags and group welcome templates.
	epGetCorpTagList = post(apiGetCorpTagList) // a POST that only reads
	// A repeat adds to the group of that name and is refused (40071) for the names it has.
	epAddCorpTag  = postWrite(apiAddCorpTag)
	epEditCorpTag = postWrite(apiEditCorpTag)
	epDelCorpTag  = postWrite(apiDelCorpTag)
	// A repeat adds a second template, and WeCom cannot list them to find the first.
	epGroupWelcomeTemplateAdd  = postOnce(apiGroupWelcomeTemplateAdd)
	epGroupWelcomeTemplateEdit = postWrite(apiGroupWelcomeTemplateEdit)
	epGroupWelcomeTemplateGet  = post(apiGroupWelcomeTemplateGet) // a POST that only reads
	epGroupWelcomeTemplateDel  = postWrite(apiGroupWelcomeTemplateDel)
)

// §12 apps and menus: agent/set and menu/create set what they are given, so a repeat is
// harmless.
var (
	epAgentGet   = get(apiAgentGet)
	epAgentList  = get(apiAgentList)
	epAgentSet   = postWrite(apiAgentSet)
	epMenuCreate = postWrite(apiMenuCreate)
	epMenuGet    = get(apiMenuGet)
	epMenuDelete = getWrite(apiMenuDelete) // a GET that deletes (§12)
)
