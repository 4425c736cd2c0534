package wecom

import (
	_ "embed"
	"encoding/json"
	"strconv"
	"sync"
)

// WeCom errcodes the client and its callers branch on. Names follow the official meaning
// (全局错误码, page 90313); the reference section that documents each code is noted where
// it is endpoint-specific.
const (
	ErrCodeSystemBusy          = -1     // 系统繁忙: retry
	ErrCodeOK                  = 0      // 请求成功
	ErrCodeDataVersionConflict = 6000   // 数据版本冲突: concurrent modification, retry later
	ErrCodeInvalidSecret       = 40001  // 不合法的secret参数 (corpid/secret mismatch, secret reset, app disabled)
	ErrCodeInvalidUserID       = 40003  // 无效的UserID
	ErrCodeInvalidMediaID      = 40007  // 不合法的media_id参数
	ErrCodeInvalidMsgType      = 40008  // 不合法的msgtype参数
	ErrCodeInvalidCorpID       = 40013  // 不合法的CorpID
	ErrCodeInvalidAccessToken  = 40014  // 不合法的access_token
	ErrCodeInvalidUserIDList   = 40031  // 不合法的UserID列表
	ErrCodeInvalidListLength   = 40032  // 不合法的UserID列表长度
	ErrCodeChatIDNotExist      = 40050  // chatid不存在 (§4)
	ErrCodeInvalidAgentID      = 40056  // 不合法的agentid
	ErrCodeInvalidParameter    = 40058  // 不合法的参数
	ErrCodeEmptyParameter      = 40063  // 参数为空
	ErrCodeInvalidPartyList    = 40066  // 不合法的部门列表
	ErrCodeNewsNotSafe         = 40074  // news消息不支持保密消息类型
	ErrCodeSecretNotOfCorp     = 40091  // secret不合法 (secret of another corp)
	ErrCodeUserNotVerified     = 40098  // 成员尚未实名认证 (§5)
	ErrCodeMissingAccessToken  = 41001  // 缺少access_token参数
	ErrCodeMissingCorpID       = 41002  // 缺少corpid参数
	ErrCodeMissingSecret       = 41004  // 缺少secret参数
	ErrCodeMissingAgentID      = 41011  // 缺少agentid参数
	ErrCodeMissingDepartment   = 41019  // 缺少 department 参数
	ErrCodeMissingWayType      = 41037  // 缺少「联系我」type参数
	ErrCodeMissingWayScene     = 41038  // 缺少「联系我」scene参数
	ErrCodeInvalidWayType      = 41039  // 无效的「联系我」type参数
	ErrCodeInvalidWayScene     = 41040  // 无效的「联系我」scene参数
	ErrCodeTooManyWayUsers     = 41041  // 「联系我」使用人数超过限制
	ErrCodeInvalidWayStyle     = 41042  // 无效的「联系我」style参数
	ErrCodeMissingConfigID     = 41043  // 缺少「联系我」config_id参数
	ErrCodeInvalidConfigID     = 41044  // 无效的「联系我」config_id参数
	ErrCodeContactWayQuota     = 41045  // API添加「联系我」达到数量上限
	ErrCodeUserNotActivated    = 41054  // 该用户尚未激活
	ErrCodeNoWeChatDevAccount  = 41057  // 企业或服务商未绑定微信开发者账号
	ErrCodeAccessTokenExpired  = 42001  // access_token已过期
	ErrCodeMsgIDExpired        = 42052  // msgid已过期 (recall only within 24 h)
	ErrCodeEmptyMedia          = 44001  // 多媒体文件为空
	ErrCodeEmptyTextContent    = 44004  // 文本消息content参数为空
	ErrCodeContentTooLarge     = 45002  // 消息内容大小超过限制
	ErrCodeTooManyArticles     = 45008  // 图文消息的文章数量不符合系统限制
	ErrCodeFreqLimit           = 45009  // 接口调用超过限制
	ErrCodeConcurrencyLimit    = 45033  // 接口并发调用超过限制
	ErrCodeNoAPIPermission     = 48002  // API接口无权限调用
	ErrCodeDeptNameLength      = 60001  // 部门长度不符合限制
	ErrCodeDeptNotFound        = 60003  // 部门ID不存在
	ErrCodeParentDeptNotFound  = 60004  // 父部门不存在
	ErrCodeDeptHasMembers      = 60005  // 部门下存在成员
	ErrCodeDeptHasChildren     = 60006  // 部门下存在子部门
	ErrCodeCannotDeleteRoot    = 60007  // 不允许删除根部门
	ErrCodeDeptExists          = 60008  // 部门已存在 (id or name among siblings)
	ErrCodeDeptNameIllegal     = 60009  // 部门名称含有非法字符
	ErrCodeDeptCycle           = 60010  // 部门存在循环关系
	ErrCodeNoTargetPermission  = 60011  // 指定的成员/部门/标签参数无权限
	ErrCodeUntrustedIP         = 60020  // 不安全的访问IP
	ErrCodeUserIDExists        = 60102  // UserID已存在
	ErrCodeInvalidMobile       = 60103  // 手机号码不合法
	ErrCodeMobileExists        = 60104  // 手机号码已存在
	ErrCodeInvalidEmail        = 60105  // 邮箱不合法
	ErrCodeEmailExists         = 60106  // 邮箱已存在
	ErrCodeTooManyUserDepts    = 60110  // 用户所属部门数量超过限制
	ErrCodeUserIDNotFound      = 60111  // UserID不存在
	ErrCodeInvalidUserName     = 60112  // 成员name参数不合法
	ErrCodeInvalidDeptID       = 60123  // 无效的部门id
	ErrCodeInvalidParentDeptID = 60124  // 无效的父部门id
	ErrCodeInvalidDeptName     = 60125  // 非法部门名字
	ErrCodeMissingDeptParam    = 60127  // 缺少department参数
	ErrCodeMobileAndEmailEmpty = 60129  // 成员手机和邮箱都为空
	ErrCodeLeaderLenMismatch   = 60132  // is_leader_in_dept和department的元素个数不一致
	ErrCodeTooManyLeaders      = 60257  // 直属上级数量超过限制
	ErrCodeTooManyNodes        = 81001  // 部门下的节点数超过限制（3W）
	ErrCodeDeptTooDeep         = 81002  // 部门最多15层
	ErrCodeAllRecipientsBad    = 81013  // UserID、部门ID、标签ID全部非法或无权限
	ErrCodeNoRecipients        = 82001  // 指定的成员/部门/标签全部为空
	ErrCodeTooManyParties      = 82002  // 不合法的PartyID列表长度 (>100)
	ErrCodeTooManyTags         = 82003  // 不合法的TagID列表长度 (>100)
	ErrCodeNoExternalContact   = 84074  // 没有外部联系人权限
	ErrCodeInvalidChatID       = 86001  // 参数 chatid 不合法
	ErrCodeChatNotFound        = 86003  // 参数 chatid 不存在
	ErrCodeInvalidChatName     = 86004  // 参数 群名不合法
	ErrCodeInvalidChatOwner    = 86005  // 参数 群主不合法
	ErrCodeChatMemberCount     = 86006  // 群成员数过多或过少
	ErrCodeInvalidChatMember   = 86007  // 不合法的群成员
	ErrCodeChatNotOwned        = 86008  // 非法操作非自己创建的群
	ErrCodeChatIDExists        = 86215  // 会话ID已经存在
	ErrCodeBadChatMemberID     = 86216  // 存在非法会话成员ID
	ErrCodeInvalidCalendarID   = 90457  // 日历ID异常
	ErrCodeCalendarDeleted     = 90459  // 日历已删除
	ErrCodeScheduleDeleted     = 90460  // 日程已删除
	ErrCodeInvalidScheduleID   = 90461  // 日程ID异常
	ErrCodeOtherAppsCalendar   = 90466  // 不能操作别的应用创建的日历/日程
	ErrCodeNoCalendarPerm      = 90472  // 没有日历/日程操作权限
	ErrCodeInvalidColor        = 90473  // 颜色参数异常
	ErrCodeDeprecatedParam     = 90493  // 使用了废弃的参数
	ErrCodeInvalidWebhook      = 93000  // 机器人webhookurl不合法或者机器人已经被移除出群
	ErrCodeRobotDisabled       = 93004  // 机器人被停用
	ErrCodeRobotNotInGroup     = 93008  // 不在群里
	ErrCodeAgentNotOwned       = 301002 // 无权限操作指定的应用 (agentid is not the token's app)
	ErrCodeCannotDeleteCreator = 301005 // 不允许删除创建者
	ErrCodeCannotChangeUserID  = 301036 // 不允许更新该用户的userid

	// Customer succession (issue 12, offboarding).
	ErrCodeInvalidExternalUserID = 40096 // 不合法的外部联系人userid
	ErrCodeTransferTooOften      = 40128 // 客户转接过于频繁(90个自然日内,在职成员的每位客户仅可被转接2次)
	ErrCodeTransferInProgress    = 40129 // 当前客户正在转接中
	ErrCodeNoExternalRelation    = 84061 // 不存在外部联系人的关系
)

// meanings are short English glosses for the codes this operator meets. They are written by
// hand from the official Chinese titles (wecom-errcodes.json); codes not listed here fall back
// to the official title, which is embedded below.
var meanings = map[int]string{
	ErrCodeSystemBusy:            "system busy",
	ErrCodeOK:                    "ok",
	ErrCodeDataVersionConflict:   "data version conflict",
	ErrCodeInvalidSecret:         "invalid secret",
	ErrCodeInvalidUserID:         "invalid userid",
	ErrCodeInvalidMediaID:        "invalid media_id",
	ErrCodeInvalidMsgType:        "invalid msgtype",
	ErrCodeInvalidCorpID:         "invalid corpid",
	ErrCodeInvalidAccessToken:    "invalid access_token",
	ErrCodeInvalidUserIDList:     "invalid userid list",
	ErrCodeInvalidListLength:     "userid list too long",
	ErrCodeChatIDNotExist:        "chatid does not exist",
	ErrCodeInvalidAgentID:        "invalid agentid",
	ErrCodeInvalidParameter:      "invalid parameter",
	ErrCodeEmptyParameter:        "empty parameter",
	ErrCodeInvalidPartyList:      "invalid department list",
	ErrCodeNewsNotSafe:           "news messages cannot be safe (use mpnews)",
	ErrCodeSecretNotOfCorp:       "secret is invalid (secret of another corp?)",
	ErrCodeUserNotVerified:       "member has not completed real-name verification",
	ErrCodeInvalidExternalUserID: "invalid external userid",
	ErrCodeTransferTooOften:      "customer handed over too often (twice in 90 days at most)",
	ErrCodeTransferInProgress:    "customer handover in progress",
	ErrCodeNoExternalRelation:    "not a customer of this member",
	ErrCodeMissingAccessToken:    "access_token missing",
	ErrCodeMissingCorpID:         "corpid missing",
	ErrCodeMissingSecret:         "corpsecret missing",
	ErrCodeMissingAgentID:        "agentid missing",
	ErrCodeMissingDepartment:     "department missing",
	ErrCodeMissingWayType:        "contact way type missing",
	ErrCodeMissingWayScene:       "contact way scene missing",
	ErrCodeInvalidWayType:        "invalid contact way type",
	ErrCodeInvalidWayScene:       "invalid contact way scene",
	ErrCodeTooManyWayUsers:       "too many members on the contact way",
	ErrCodeInvalidWayStyle:       "invalid contact way style",
	ErrCodeMissingConfigID:       "config_id missing",
	ErrCodeInvalidConfigID:       "invalid config_id",
	ErrCodeContactWayQuota:       "contact way quota reached",
	ErrCodeUserNotActivated:      "member not activated",
	ErrCodeNoWeChatDevAccount:    "no WeChat developer account bound",
	ErrCodeAccessTokenExpired:    "access_token expired",
	42027:                        "template_card horizontal_content_list keyname missing",
	42051:                        "template_card action_menu key conflict",
	ErrCodeMsgIDExpired:          "msgid expired",
	ErrCodeEmptyMedia:            "media file empty",
	ErrCodeEmptyTextContent:      "text content empty",
	ErrCodeContentTooLarge:       "message content too large",
	ErrCodeTooManyArticles:       "too many articles",
	ErrCodeFreqLimit:             "api freq out of limit",
	ErrCodeConcurrencyLimit:      "api concurrency out of limit",
	ErrCodeNoAPIPermission:       "api forbidden",
	ErrCodeDeptNameLength:        "department name length out of range",
	ErrCodeDeptNotFound:          "department not found",
	ErrCodeParentDeptNotFound:    "parent department not found",
	ErrCodeDeptHasMembers:        "department has members",
	ErrCodeDeptHasChildren:       "department has sub-departments",
	ErrCodeCannotDeleteRoot:      "cannot delete the root department",
	ErrCodeDeptExists:            "department id or name already exists",
	ErrCodeDeptNameIllegal:       "department name has illegal characters",
	ErrCodeDeptCycle:             "department cycle",
	ErrCodeNoTargetPermission:    "no permission for the member/department/tag",
	ErrCodeUntrustedIP:           "not allow to access from your ip",
	ErrCodeUserIDExists:          "userid existed",
	ErrCodeInvalidMobile:         "invalid mobile",
	ErrCodeMobileExists:          "mobile existed",
	ErrCodeInvalidEmail:          "invalid email",
	ErrCodeEmailExists:           "email existed",
	60107:                        "invalid wechat id",
	ErrCodeTooManyUserDepts:      "too many departments for the member",
	ErrCodeUserIDNotFound:        "userid not found",
	ErrCodeInvalidUserName:       "invalid member name",
	ErrCodeInvalidDeptID:         "invalid department id",
	ErrCodeInvalidParentDeptID:   "invalid parent department id",
	ErrCodeInvalidDeptName:       "invalid department name",
	ErrCodeMissingDeptParam:      "department missing",
	ErrCodeMobileAndEmailEmpty:   "mobile and email both empty",
	ErrCodeLeaderLenMismatch:     "is_leader_in_dept and department lengths differ",
	ErrCodeTooManyLeaders:        "too many direct leaders",
	ErrCodeTooManyNodes:          "too many nodes under the department",
	ErrCodeDeptTooDeep:           "departments nested too deep (max 15 levels)",
	ErrCodeAllRecipientsBad:      "user & party & tag all invalid",
	ErrCodeNoRecipients:          "user & party & tag all empty",
	ErrCodeTooManyParties:        "too many parties (max 100)",
	ErrCodeTooManyTags:           "too many tags (max 100)",
	ErrCodeNoExternalContact:     "no external contact permission",
	ErrCodeInvalidChatID:         "invalid chatid",
	ErrCodeChatNotFound:          "chatid not found",
	ErrCodeInvalidChatName:       "invalid chat name",
	ErrCodeInvalidChatOwner:      "invalid chat owner",
	ErrCodeChatMemberCount:       "too many or too few chat members",
	ErrCodeInvalidChatMember:     "invalid chat member",
	ErrCodeChatNotOwned:          "chat was not created by this app",
	86201:                        "chatid missing",
	86204:                        "chat members missing",
	86205:                        "chatid too long",
	86206:                        "numeric chatid too large",
	86207:                        "chat owner is not a member",
	ErrCodeChatIDExists:          "chatid already exists",
	ErrCodeBadChatMemberID:       "invalid chat member id",
	86217:                        "sender is not a chat member",
	90456:                        "organizer required (old calendar API)",
	ErrCodeInvalidCalendarID:     "invalid cal_id",
	90458:                        "cal_id list empty",
	ErrCodeCalendarDeleted:       "calendar deleted",
	ErrCodeScheduleDeleted:       "schedule deleted",
	ErrCodeInvalidScheduleID:     "invalid schedule_id",
	90462:                        "schedule_id list empty",
	90463:                        "organizer cannot be changed",
	90464:                        "too many attendees",
	90465:                        "unsupported repeat type",
	ErrCodeOtherAppsCalendar:     "calendar/schedule belongs to another app",
	90467:                        "invalid day of week",
	90468:                        "organizer cannot be changed",
	90469:                        "page size too large",
	90470:                        "invalid page",
	90471:                        "invalid reminder time",
	ErrCodeNoCalendarPerm:        "no calendar/schedule permission",
	ErrCodeInvalidColor:          "invalid color",
	90474:                        "organizer overlaps attendees",
	90475:                        "not the organizer's calendar",
	90480:                        "invalid timezone",
	90481:                        "too many calendars",
	90482:                        "invalid op_start_time",
	90483:                        "public calendar needs public_range",
	90484:                        "op_mode 1 only for repeating schedules",
	90485:                        "invalid op_mode",
	90486:                        "repeat_interval missing",
	90487:                        "invalid day_of_month",
	90488:                        "start_time must be after op_start_time",
	90492:                        "admin is not a member",
	ErrCodeDeprecatedParam:       "deprecated parameter",
	90700:                        "cancel the meeting room booking before updating",
	90704:                        "invalid remind_time_diffs",
	90706:                        "cannot move a non-repeating schedule into the past",
	90708:                        "no default calendar: cal_id required",
	ErrCodeInvalidWebhook:        "invalid webhook url or robot removed from the group",
	ErrCodeRobotDisabled:         "robot disabled",
	ErrCodeRobotNotInGroup:       "robot not in the group",
	ErrCodeAgentNotOwned:         "no permission for the agentid",
	ErrCodeCannotDeleteCreator:   "cannot delete the corp creator",
	301012:                       "invalid position",
	301013:                       "invalid telephone",
	ErrCodeCannotChangeUserID:    "userid cannot be changed",
}

// officialTitles maps every errcode of the official global list (page 90313, scraped
// 2024-04-08) to its Chinese title. Generated from the reference's wecom-errcodes.json by
// keeping only the title.
//
//go:embed errcodes_zh.json
var officialTitlesJSON []byte

var (
	officialTitlesOnce sync.Once
	officialTitles     map[string]string
)

// Meaning returns a short description of a WeCom errcode: an English gloss for the codes this
// operator meets, else the official Chinese title, else "".
func Meaning(code int) string {
	if m, ok := meanings[code]; ok {
		return m
	}
	officialTitlesOnce.Do(func() {
		// The file is part of the build; a decode failure would be caught by TestMeaning.
		_ = json.Unmarshal(officialTitlesJSON, &officialTitles)
	})
	return officialTitles[strconv.Itoa(code)]
}
