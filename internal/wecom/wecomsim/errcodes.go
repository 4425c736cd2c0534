package wecomsim

import "fmt"

// Error codes the simulator answers with. Names follow the meaning in the
// official global error-code table (wecom-errcodes.json); the reference
// section that triggers each one is noted where it is not obvious.
const (
	codeSystemBusy = -1
	codeOK         = 0

	codeInvalidSecret      = 40001
	codeInvalidUserID      = 40003
	codeInvalidMediaID     = 40007
	codeInvalidMsgType     = 40008
	codeInvalidImageSize   = 40009
	codeInvalidCorpID      = 40013
	codeInvalidToken       = 40014
	codeInvalidUserList    = 40031
	codeInvalidUserListLen = 40032
	codeInvalidURLSize     = 40039
	codeInvalidAgentID     = 40056
	codeInvalidParam       = 40058
	codeEmptyParam         = 40063
	codeInvalidDeptList    = 40066
	codeInvalidTagID       = 40068
	codeTagAllInvalid      = 40070
	codeTagNameExists      = 40071
	codeTagNameLength      = 40072
	codeNewsNoSafe         = 40074
	codeTagCountLimit      = 40126

	codeMissingToken       = 41001
	codeMissingCorpID      = 41002
	codeMissingSecret      = 41004
	codeMissingMediaID     = 41006
	codeMissingUserID      = 41009
	codeMissingURL         = 41010
	codeMissingAgentID     = 41011
	codeMissingTitle       = 41016
	codeMissingTagID       = 41017
	codeMissingTagName     = 41018
	codeMissingDepartment  = 41019
	codeMissingDescription = 41033
	codeMissingWayType     = 41037
	codeMissingWayScene    = 41038
	codeInvalidWayType     = 41039
	codeInvalidWayScene    = 41040
	codeWayUsersOverLimit  = 41041
	codeInvalidWayStyle    = 41042
	codeMissingConfigID    = 41043
	codeInvalidConfigID    = 41044
	codeWayCountOverLimit  = 41045
	// Welcome messages (send_welcome_msg): the official table's 缺少欢迎语code参数,
	// 无效的欢迎语code ("须在添加好友后20秒内使用"), 客户和服务人员已经开始聊天了 (which
	// DOC-92599 says a second use answers), 附件数量超过限制, 无效的附件类型.
	codeMissingWelcomeCode    = 41049
	codeInvalidWelcomeCode    = 41050
	codeWelcomeChatStarted    = 41051
	codeUserNotActivated      = 41054
	codeTooManyAttachments    = 41064
	codeInvalidAttachmentType = 41065

	// Group welcome templates (welcometemplate.go): 群欢迎语模板数量达到上限, 无此群欢迎语模板的
	// 编辑权限, 缺少templateid参数, templateid不存在 (the last two are the closest codes of the
	// official table; which ones WeCom answers is unconfirmed).
	codeWelcomeTemplateLimit   = 41055
	codeWelcomeTemplateNotMine = 41058
	codeMissingTemplateID      = 84019
	codeTemplateIDNotFound     = 84020

	codeTokenExpired      = 42001
	codeCardTaskID        = 42014
	codeCardAppMismatch   = 42015 // update_template_card: the card was sent by another app (§14)
	codeCardButtonName    = 42020 // 缺少按钮名称: update_template_card without button.replace_name
	codeCardKeyName       = 42027
	codeCardMediaID       = 42029
	codeCardHorizontal    = 42035
	codeCardVertical      = 42036
	codeCardOptionCount   = 42037
	codeCardButtonText    = 42038
	codeCardButtonKey     = 42039
	codeCardOptionID      = 42040
	codeCardOptionText    = 42041
	codeCardQuestionKey   = 42043
	codeCardSubmitKey     = 42046
	codeCardSelectList    = 42047
	codeCardSubmitText    = 42049
	codeCardUserID        = 42050
	codeCardMenuKey       = 42051
	codeCardMissingURL    = 42028
	codeCardMissingAppID  = 42030
	codeCardMissingTitle  = 42033
	codeCardImageInvalid  = 42044
	codeCardActionInvalid = 42045
	codeMsgIDExpired      = 42052

	codeCallbackURLRequired = 43012 // 应用需配置回调url: interactive cards (§14)

	codeEmptyContent    = 44004
	codeContentTooLarge = 45002
	codeArticleCount    = 45008
	codeFreqLimit       = 45009
	codeURLNoProtocol   = 45034
	codeAuthorTooLong   = 45032
	codeNoPermission    = 48002

	codeDeptNameLength    = 60001
	codeDeptNotFound      = 60003
	codeParentNotFound    = 60004
	codeDeptHasMembers    = 60005
	codeDeptHasChildren   = 60006
	codeDeleteRootDept    = 60007
	codeDeptExists        = 60008
	codeDeptNameChars     = 60009
	codeDeptCycle         = 60010
	codeOutOfRange        = 60011
	codeUntrustedIP       = 60020
	codeUserIDExists      = 60102
	codeInvalidMobile     = 60103
	codeMobileExists      = 60104
	codeInvalidEmail      = 60105
	codeEmailExists       = 60106
	codeTooManyDepts      = 60110
	codeUserNotFound      = 60111
	codeInvalidUserName   = 60112
	codeInvalidDeptID     = 60123
	codeInvalidParentID   = 60124
	codeNoMobileOrEmail   = 60129
	codeLeaderLenMismatch = 60132
	codeBadResponseCode   = 60140 // 无效的response_code, "可能是response_code已经过期" (§14)
	codeTooManyLeaders    = 60257

	codeDeptNodesOverLimit  = 81001
	codeDeptTooDeep         = 81002
	codeTagMembersOverLimit = 81003
	codeTagNoPermission     = 81011
	codeAllRecipientsBad    = 81013
	codeTagTooManyPerCall   = 81014
	codeNoRecipients        = 82001
	codeTooManyParties      = 82002
	codeTooManyTags         = 82003

	codeInvalidChatID     = 86001
	codeChatNotFound      = 86003
	codeInvalidChatOwner  = 86005
	codeChatMemberCount   = 86006
	codeInvalidChatMember = 86007
	codeNotChatCreator    = 86008
	codeMissingChatID     = 86201
	codeMissingChatOwner  = 86203
	codeMissingChatUsers  = 86204
	codeChatIDTooLong     = 86205
	codeOwnerNotInChat    = 86207
	codeChatIDExists      = 86215
	codeBadChatMemberID   = 86216

	codeMissingMiniAppID = 90200
	codeMiniItemsOver    = 90201

	codeInvalidCalID          = 90457
	codeEmptyCalIDList        = 90458
	codeCalendarDeleted       = 90459
	codeScheduleDeleted       = 90460
	codeInvalidScheduleID     = 90461
	codeEmptyScheduleIDList   = 90462
	codeTooManyAttendees      = 90464
	codeBadRepeatType         = 90465
	codeOtherAppsCalendar     = 90466
	codeBadDayOfWeek          = 90467
	codePageSizeOverLimit     = 90469
	codeBadPage               = 90470
	codeBadRemindTime         = 90471
	codeBadColor              = 90473
	codeBadTimezone           = 90480
	codeCorpCalendarLimit     = 90481
	codeBadOpStartTime        = 90482
	codeNeedPublicRange       = 90483
	codeOpModeNeedsRepeat     = 90484
	codeBadOpMode             = 90485
	codeMissingRepeatInterval = 90486
	codeBadDayOfMonth         = 90487
	codeStartBeforeOpStart    = 90488
	codeAdminNotMember        = 90492
	codeBadRemindTimeDiffs    = 90704
	codeStartInPast           = 90706
	codeNoDefaultCalendar     = 90708

	codeInvalidWebhook = 93000
	codeRobotDisabled  = 93004

	codeAgentNotAllowed   = 301002
	codeDeleteCreator     = 301005
	codeInvalidPosition   = 301012
	codeInvalidTelephone  = 301013
	codeInvalidMD5        = 301019
	codeUserIDNotEditable = 301036

	// Customer succession (transfer.go; names from the official table).
	codeInvalidExternalUserID = 40096 // 不合法的外部联系人userid
	codeNotRealName           = 40098 // 成员尚未实名认证
	codeTransferTooOften      = 40128 // 客户转接过于频繁(90个自然日内,在职成员的每位客户仅可被转接2次)
	codeTransferInProgress    = 40129 // 当前客户正在转接中
	codeTooManyItems          = 81017 // 请求个数超过限制
	codeNoExternalRelation    = 84061 // 不存在外部联系人的关系
	codeNotCustomerChat       = 90501 // 该群不是客户群
	codeChatOwnerSame         = 90504 // 群主没变
)

// errMessages holds the errmsg text for each code. Where the reference quotes
// a real string (§0 "Strings seen") it is used verbatim; the rest are short
// English phrases in the same style. Clients must branch on errcode only.
var errMessages = map[int]string{
	codeSystemBusy: "system busy",
	codeOK:         "ok",

	codeInvalidSecret:      "invalid credential",
	codeInvalidUserID:      "invalid userid",
	codeInvalidMediaID:     "invalid media_id",
	codeInvalidMsgType:     "invalid message type",
	codeInvalidImageSize:   "invalid image size",
	codeInvalidCorpID:      "invalid corpid",
	codeInvalidToken:       "invalid access_token",
	codeInvalidUserList:    "invalid userid list",
	codeInvalidUserListLen: "invalid userid list size",
	codeInvalidURLSize:     "invalid url size",
	codeInvalidAgentID:     "invalid agentid",
	codeInvalidParam:       "invalid parameter",
	codeEmptyParam:         "empty parameter",
	codeInvalidDeptList:    "invalid department list",
	codeInvalidTagID:       "invalid tagid",
	codeTagAllInvalid:      "all list invalid ", // the reference's errmsg, trailing space included
	codeTagNameExists:      "tagname exists",
	codeTagNameLength:      "invalid tagname size",
	codeTagCountLimit:      "tag count exceeds limit",
	codeNewsNoSafe:         "news message does not support safe",

	codeMissingToken:       "access_token missing",
	codeMissingCorpID:      "corpid missing",
	codeMissingSecret:      "corpsecret missing",
	codeMissingMediaID:     "media_id missing",
	codeMissingUserID:      "userid missing",
	codeMissingURL:         "url missing",
	codeMissingAgentID:     "agentid missing",
	codeMissingTitle:       "title missing",
	codeMissingTagID:       "tagid missing",
	codeMissingTagName:     "tagname missing",
	codeMissingDepartment:  "department missing",
	codeMissingDescription: "description missing",
	codeMissingWayType:     "missing contact way type",
	codeMissingWayScene:    "missing contact way scene",
	codeInvalidWayType:     "invalid contact way type",
	codeInvalidWayScene:    "invalid contact way scene",
	codeWayUsersOverLimit:  "contact way user count exceeds limit",
	codeInvalidWayStyle:    "invalid contact way style",
	codeMissingConfigID:    "missing contact way config_id",
	codeInvalidConfigID:    "invalid contact way config_id",
	codeWayCountOverLimit:  "contact way count reaches limit",
	codeMissingWelcomeCode: "welcome_code missing",
	codeInvalidWelcomeCode: "invalid welcome_code",
	// DOC-92599 quotes this errmsg.
	codeWelcomeChatStarted:    "externaluser has started chatting",
	codeUserNotActivated:      "user not activated",
	codeTooManyAttachments:    "attachment count exceeds limit",
	codeInvalidAttachmentType: "invalid attachment msgtype",

	codeWelcomeTemplateLimit:   "group welcome template count reaches limit",
	codeWelcomeTemplateNotMine: "no privilege to edit the group welcome template",
	codeMissingTemplateID:      "templateid missing",
	codeTemplateIDNotFound:     "templateid not found",

	codeTokenExpired:      "access_token expired",
	codeCardTaskID:        "taskid has existed or empty or exceed max len", // as quoted in §14
	codeCardAppMismatch:   "the app does not match the app that sent the card",
	codeCardButtonName:    "button replace_name missing",
	codeCardOptionCount:   "template_card option_list size invalid",
	codeCardButtonText:    "template_card button_list.text missing or invalid",
	codeCardButtonKey:     "template_card button_list.key missing or invalid",
	codeCardOptionID:      "template_card option_list.id missing or invalid",
	codeCardOptionText:    "template_card option_list.text missing or invalid",
	codeCardQuestionKey:   "template_card question_key missing or invalid",
	codeCardSubmitKey:     "template_card submit_button.key missing or invalid",
	codeCardSelectList:    "template_card select_list size invalid",
	codeCardSubmitText:    "template_card submit_button.text missing or invalid",
	codeCardMenuKey:       "template_card action_menu.action_list.key conflict",
	codeCardKeyName:       "template_card horizontal_content_list.keyname missing",
	codeCardMediaID:       "template_card media_id missing",
	codeCardHorizontal:    "template_card horizontal_content_list size invalid",
	codeCardVertical:      "template_card vertical_content_list size invalid",
	codeCardUserID:        "template_card horizontal_content_list.userid invalid",
	codeCardMissingURL:    "template_card url missing",
	codeCardMissingAppID:  "template_card appid missing",
	codeCardMissingTitle:  "template_card title missing",
	codeCardImageInvalid:  "template_card card_image.url missing or invalid",
	codeCardActionInvalid: "template_card card_action missing or invalid",
	codeMsgIDExpired:      "msgid expired",

	codeCallbackURLRequired: "callback url required for the app",

	codeEmptyContent:    "empty content",
	codeContentTooLarge: "content size out of limit",
	codeArticleCount:    "article count out of limit",
	codeFreqLimit:       "api freq out of limit",
	codeURLNoProtocol:   "url must have protocol",
	codeAuthorTooLong:   "author size out of limit",
	codeNoPermission:    "api forbidden",

	codeDeptNameLength:    "department name length invalid",
	codeDeptNotFound:      "department not found",
	codeParentNotFound:    "parent department not found",
	codeDeptHasMembers:    "department contains members",
	codeDeptHasChildren:   "department contains sub-departments",
	codeDeleteRootDept:    "not allow to delete root department",
	codeDeptExists:        "department existed",
	codeDeptNameChars:     "department name contains invalid characters",
	codeDeptCycle:         "department has circular relation",
	codeOutOfRange:        "no privilege to access the user/department/tag",
	codeUntrustedIP:       "not allow to access from your ip",
	codeUserIDExists:      "userid existed",
	codeInvalidMobile:     "mobile invalid",
	codeMobileExists:      "mobile existed",
	codeInvalidEmail:      "email invalid",
	codeEmailExists:       "email existed",
	codeTooManyDepts:      "department count exceeds limit",
	codeUserNotFound:      "userid not found",
	codeInvalidUserName:   "invalid name",
	codeInvalidDeptID:     "invalid department id",
	codeInvalidParentID:   "invalid parent department id",
	codeNoMobileOrEmail:   "mobile and email are both empty",
	codeLeaderLenMismatch: "is_leader_in_dept and department size mismatch",
	codeBadResponseCode:   "invalid response_code",
	codeTooManyLeaders:    "direct_leader count exceeds limit",

	codeDeptNodesOverLimit:  "department node count exceeds limit",
	codeDeptTooDeep:         "department level exceeds limit",
	codeTagMembersOverLimit: "tag member count exceeds limit",
	codeTagNoPermission:     "no privilege to access the tag",
	codeAllRecipientsBad:    "user & party & tag all invalid",
	codeTagTooManyPerCall:   "too many users or parties in one call",
	codeNoRecipients:        "touser & toparty & totag all empty",
	codeTooManyParties:      "invalid party list size",
	codeTooManyTags:         "invalid tag list size",

	codeInvalidChatID:     "invalid chatid",
	codeChatNotFound:      "chatid not found",
	codeInvalidChatOwner:  "invalid chat owner",
	codeChatMemberCount:   "chat member count out of range",
	codeInvalidChatMember: "invalid chat member",
	codeNotChatCreator:    "chat not created by this app",
	codeMissingChatID:     "chatid missing",
	codeMissingChatOwner:  "chat owner missing",
	codeMissingChatUsers:  "chat members missing",
	codeChatIDTooLong:     "chatid too long",
	codeOwnerNotInChat:    "owner not in chat member list",
	codeChatIDExists:      "chatid existed",
	codeBadChatMemberID:   "invalid chat member id",

	codeMissingMiniAppID: "miniprogram appid missing",
	codeMiniItemsOver:    "miniprogram content_item count out of limit",

	codeInvalidCalID:          "invalid cal_id",
	codeEmptyCalIDList:        "cal_id list is empty",
	codeCalendarDeleted:       "calendar deleted",
	codeScheduleDeleted:       "schedule deleted",
	codeInvalidScheduleID:     "invalid schedule_id",
	codeEmptyScheduleIDList:   "schedule_id list is empty",
	codeTooManyAttendees:      "attendee count exceeds limit",
	codeBadRepeatType:         "unsupported repeat_type",
	codeOtherAppsCalendar:     "calendar or schedule created by another app",
	codeBadDayOfWeek:          "invalid repeat_day_of_week",
	codePageSizeOverLimit:     "page size exceeds limit",
	codeBadPage:               "invalid offset",
	codeBadRemindTime:         "invalid remind time",
	codeBadColor:              "invalid color",
	codeBadTimezone:           "invalid timezone",
	codeCorpCalendarLimit:     "calendar count exceeds limit",
	codeBadOpStartTime:        "invalid op_start_time",
	codeNeedPublicRange:       "public calendar requires public_range",
	codeOpModeNeedsRepeat:     "op_mode 1 is only for repeating schedules",
	codeBadOpMode:             "invalid op_mode",
	codeMissingRepeatInterval: "missing repeat_interval",
	codeBadDayOfMonth:         "invalid day_of_month",
	codeStartBeforeOpStart:    "start_time must be after op_start_time",
	codeAdminNotMember:        "admin not in member list",
	codeBadRemindTimeDiffs:    "remind_time_diffs contains invalid value",
	codeStartInPast:           "cannot move a non-repeating schedule's start into the past",
	codeNoDefaultCalendar:     "no default calendar, cal_id required",

	codeInvalidWebhook: "invalid webhook url",
	codeRobotDisabled:  "robot disabled",

	codeAgentNotAllowed:   "no privilege to access/modify the agent",
	codeDeleteCreator:     "not allow to delete creator",
	codeInvalidPosition:   "invalid position",
	codeInvalidTelephone:  "invalid telephone",
	codeInvalidMD5:        "invalid md5",
	codeUserIDNotEditable: "not allow to update userid",

	codeInvalidExternalUserID: "invalid external userid",
	codeNotRealName:           "user not real-name verified",
	codeTransferTooOften:      "customer transferred too often",
	codeTransferInProgress:    "customer is being transferred",
	codeTooManyItems:          "too many items in request",
	codeNoExternalRelation:    "not external contact",
	codeNotCustomerChat:       "not a customer group chat",
	codeChatOwnerSame:         "the owner of this chat is not changed",
}

// errText returns the bare errmsg for a code.
func errText(code int) string {
	if m, ok := errMessages[code]; ok {
		return m
	}
	return fmt.Sprintf("error %d", code)
}

// apiError lets deep validation helpers return an errcode through normal
// Go error plumbing (and lets lenient JSON types pick a specific code).
type apiError struct {
	code   int
	detail string
}

func (e *apiError) Error() string {
	if e.detail != "" {
		return fmt.Sprintf("errcode %d: %s", e.code, e.detail)
	}
	return fmt.Sprintf("errcode %d", e.code)
}

func errCode(code int) *apiError { return &apiError{code: code} }

func errCodef(code int, format string, args ...any) *apiError {
	return &apiError{code: code, detail: fmt.Sprintf(format, args...)}
}
