package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// APIError is a reply from WeCom with a non-zero errcode. WeCom answers HTTP 200 for these
// (reference §0), so this is the common failure; the helpers below classify it by Code only:
// Message is free text meant for people and changes without notice.
type APIError struct {
	// Code is WeCom's errcode.
	Code int
	// Message is WeCom's errmsg, with anything that looks like a credential removed.
	Message string
	// API is the endpoint path below /cgi-bin/, e.g. "department/create". Never a URL.
	API string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("wecom %s: errcode %d", e.API, e.Code)
	if m := Meaning(e.Code); m != "" {
		s += " (" + m + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// TransportError means no usable WeCom reply arrived: the connection failed, or the HTTP
// status was not 200 (WeCom itself always answers 200; anything else comes from a proxy, an
// overloaded front end, or a wrong base URL).
type TransportError struct {
	// API is the endpoint path, as in APIError.
	API string
	// StatusCode is the HTTP status, or 0 when no complete response was received.
	StatusCode int
	// Err is the underlying error with every URL's query string removed.
	Err error

	// scrub holds the credential values of the request, removed from Error's text.
	scrub scrubber
}

func (e *TransportError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("wecom %s: HTTP %d %s", e.API, e.StatusCode, http.StatusText(e.StatusCode))
	}
	return e.scrub.scrub(redactText(fmt.Sprintf("wecom %s: %v", e.API, e.Err)))
}

func (e *TransportError) Unwrap() error { return e.Err }

// Network reports whether the request failed below HTTP (DNS, connect, TLS, reset, timeout).
func (e *TransportError) Network() bool { return e.StatusCode == 0 }

// DecodeError means WeCom answered HTTP 200 with a body that is not a WeCom reply the client
// can read. Retrying does not help; it usually means the base URL points at something else.
type DecodeError struct {
	API string
	Err error
}

func (e *DecodeError) Error() string {
	return redactText(fmt.Sprintf("wecom %s: cannot decode response: %v", e.API, e.Err))
}

func (e *DecodeError) Unwrap() error { return e.Err }

// RateLimitError is returned without calling WeCom when the client's own limiter for this corp
// and endpoint (see Limiters) would make the call wait longer than allowed. Callers should
// requeue after RetryAfter.
type RateLimitError struct {
	API        string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("wecom %s: client-side rate limit, retry after %s", e.API, e.RetryAfter.Round(time.Millisecond))
}

// ErrInvalidRequest wraps errors the client finds before sending anything (e.g. a message
// with no body). They are terminal.
var ErrInvalidRequest = errors.New("invalid wecom request")

// CallError wraps the last error of a call that took more than one attempt, gave up because
// its context ended, or may have been applied by WeCom despite failing. errors.As finds the
// underlying *APIError or *TransportError through it.
type CallError struct {
	API string
	// Attempts is how many HTTP requests were made for the endpoint (token refreshes excluded).
	Attempts int
	// Ambiguous is true when the endpoint writes and at least one attempt failed after the
	// request may have reached WeCom (a network error other than a failed dial, or HTTP 5xx).
	// The write may then have happened even though the call reports failure (or, after a
	// retry, "already exists"). Controllers should observe before creating again.
	Ambiguous bool
	// Err is the last attempt's error.
	Err error
	// Cause is the context's error when the call gave up because its context ended.
	Cause error
}

func (e *CallError) Error() string {
	s := e.Err.Error()
	if e.Attempts > 1 {
		s += " (after " + strconv.Itoa(e.Attempts) + " attempts)"
	}
	if e.Cause != nil {
		s += "; gave up: " + e.Cause.Error()
	}
	if e.Ambiguous {
		s += "; an earlier attempt may have been applied by WeCom"
	}
	return s
}

func (e *CallError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// apiCode returns the errcode and endpoint of the first *APIError in err's chain.
func apiCode(err error) (code int, api string, ok bool) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code, ae.API, true
	}
	return 0, "", false
}

// notFoundCodes lists, per endpoint, the errcodes that mean "the object this call addresses
// does not exist (any more)". It is per endpoint because the same code can name a different
// object elsewhere: 60003 on department/get is the department itself, but on user/create it is
// one of the user's departments, which must not read as "user not found".
var notFoundCodes = map[string][]int{
	apiDepartmentUpdate:     {ErrCodeDeptNotFound, ErrCodeInvalidDeptID},
	apiDepartmentDelete:     {ErrCodeDeptNotFound, ErrCodeInvalidDeptID},
	apiDepartmentGet:        {ErrCodeDeptNotFound, ErrCodeInvalidDeptID},
	apiDepartmentList:       {ErrCodeDeptNotFound, ErrCodeInvalidDeptID},
	apiDepartmentSimpleList: {ErrCodeDeptNotFound, ErrCodeInvalidDeptID},
	apiUserUpdate:           {ErrCodeUserIDNotFound},
	apiUserDelete:           {ErrCodeUserIDNotFound},
	apiUserGet:              {ErrCodeUserIDNotFound},
	apiUserSimpleList:       {ErrCodeDeptNotFound, ErrCodeInvalidDeptID}, // the department listed
	apiAppChatUpdate:        {ErrCodeChatNotFound, ErrCodeChatIDNotExist},
	apiAppChatGet:           {ErrCodeChatNotFound, ErrCodeChatIDNotExist},
	apiAppChatSend:          {ErrCodeChatNotFound, ErrCodeChatIDNotExist},
	apiGetContactWay:        {ErrCodeInvalidConfigID},
	apiUpdateContactWay:     {ErrCodeInvalidConfigID},
	apiDelContactWay:        {ErrCodeInvalidConfigID},
	apiCalendarGet:          {ErrCodeInvalidCalendarID, ErrCodeCalendarDeleted},
	apiCalendarUpdate:       {ErrCodeInvalidCalendarID, ErrCodeCalendarDeleted},
	apiCalendarDel:          {ErrCodeInvalidCalendarID, ErrCodeCalendarDeleted},
	apiScheduleGet:          {ErrCodeInvalidScheduleID, ErrCodeScheduleDeleted},
	apiScheduleUpdate:       {ErrCodeInvalidScheduleID, ErrCodeScheduleDeleted},
	apiScheduleDel:          {ErrCodeInvalidScheduleID, ErrCodeScheduleDeleted},
}

// alreadyExistsCodes lists, per create endpoint, the errcodes that mean "an object with the
// key you chose already exists". Only creates with a caller-chosen key can report this;
// add_contact_way, calendar/add and schedule/add have none, so a retried create there can
// duplicate (see CallError.Ambiguous).
var alreadyExistsCodes = map[string][]int{
	apiDepartmentCreate: {ErrCodeDeptExists}, // id taken, or the name exists under the same parent
	apiUserCreate:       {ErrCodeUserIDExists},
	apiAppChatCreate:    {ErrCodeChatIDExists},
}

func matchCode(err error, table map[string][]int) bool {
	code, api, ok := apiCode(err)
	if !ok {
		return false
	}
	if codes, known := table[api]; known {
		return slices.Contains(codes, code)
	}
	if api != "" {
		return false
	}
	// An APIError without API (built by a fake in a test) matches any endpoint's codes.
	for _, codes := range table {
		if slices.Contains(codes, code) {
			return true
		}
	}
	return false
}

// IsNotFound reports whether err means the object the call addressed does not exist, judged
// per endpoint (see notFoundCodes and docs/wecom-client.md). Note oa/schedule/get returns
// cancelled schedules with status 1 instead of an error.
func IsNotFound(err error) bool { return matchCode(err, notFoundCodes) }

// IsAlreadyExists reports whether a create failed because its key is taken (60008 on
// department/create, 60102 on user/create, 86215 on appchat/create).
func IsAlreadyExists(err error) bool { return matchCode(err, alreadyExistsCodes) }

var retryableCodes = []int{ErrCodeSystemBusy, ErrCodeDataVersionConflict, ErrCodeFreqLimit, ErrCodeConcurrencyLimit}

var rateLimitCodes = []int{ErrCodeFreqLimit, ErrCodeConcurrencyLimit}

// credentialCodes need a person to fix the connection (corp ID, secret, trusted IP, the app's
// permissions or the robot key); retrying cannot help and other objects on the same
// connection will fail the same way.
var credentialCodes = []int{
	ErrCodeInvalidSecret, ErrCodeInvalidCorpID, ErrCodeInvalidAccessToken, ErrCodeAccessTokenExpired,
	ErrCodeNoAPIPermission, ErrCodeUntrustedIP, ErrCodeSecretNotOfCorp, ErrCodeMissingCorpID,
	ErrCodeMissingSecret, ErrCodeAgentNotOwned,
	ErrCodeInvalidWebhook, ErrCodeRobotDisabled, ErrCodeRobotNotInGroup,
}

// IsRetryable reports whether the same call may succeed later without any change: errcodes
// -1, 6000, 45009, 45033; HTTP 5xx and 429; network errors; the client's own rate limit.
// Context cancellation is not retryable (nor terminal): the caller stopped.
func IsRetryable(err error) bool {
	if code, _, ok := apiCode(err); ok {
		return slices.Contains(retryableCodes, code)
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te.Network() || te.StatusCode >= 500 || te.StatusCode == http.StatusTooManyRequests
	}
	var rl *RateLimitError
	return errors.As(err, &rl)
}

// IsRateLimited reports whether WeCom (45009, 45033, HTTP 429) or the client's own limiter
// refused the call for its rate.
func IsRateLimited(err error) bool {
	if code, _, ok := apiCode(err); ok {
		return slices.Contains(rateLimitCodes, code)
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te.StatusCode == http.StatusTooManyRequests
	}
	var rl *RateLimitError
	return errors.As(err, &rl)
}

// IsCredential reports whether err is a connection-level problem: 40001, 40013, 40091, 41002,
// 41004 (corp ID / secret), 40014 and 42001 (only seen by callers when a freshly fetched
// token was rejected too), 48002 (the secret's app lacks permission for the API), 60020
// (egress IP not trusted), 301002 (agentid not the secret's app), 93000/93004/93008 (robot key).
func IsCredential(err error) bool {
	code, _, ok := apiCode(err)
	return ok && slices.Contains(credentialCodes, code)
}

// IsTerminal reports whether err needs a change of the request (spec) to go away: everything
// that is neither retryable nor a credential problem nor a cancelled context. Not-found and
// already-exists are terminal too, so check IsNotFound / IsAlreadyExists first.
func IsTerminal(err error) bool {
	if err == nil || IsRetryable(err) || IsCredential(err) {
		return false
	}
	if !hasWeComError(err) && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return false
	}
	return true
}

func hasWeComError(err error) bool {
	var ae *APIError
	var te *TransportError
	var de *DecodeError
	return errors.As(err, &ae) || errors.As(err, &te) || errors.As(err, &de)
}

// IsDepartmentNotEmpty reports whether department/delete was refused because the department
// still has members (60005) or sub-departments (60006): a refusal that time may remove.
func IsDepartmentNotEmpty(err error) bool {
	code := Code(err)
	return code == ErrCodeDeptHasMembers || code == ErrCodeDeptHasChildren
}

// IsPermissionDenied reports whether the app may not call the API (48002) or act for the
// agentid given (301002), as opposed to credentials that WeCom refused.
func IsPermissionDenied(err error) bool {
	code := Code(err)
	return code == ErrCodeNoAPIPermission || code == ErrCodeAgentNotOwned
}

// IsAmbiguous reports whether a failed write may nevertheless have been applied by WeCom (see
// CallError.Ambiguous). Also see WithCallInfo for the same fact on successful calls.
func IsAmbiguous(err error) bool {
	var ce *CallError
	return errors.As(err, &ce) && ce.Ambiguous
}

// Code returns the WeCom errcode in err's chain, or 0 when there is none.
func Code(err error) int {
	code, _, _ := apiCode(err)
	return code
}

// apiHints replaces hints for an errcode that means something else on some endpoints (301002
// on the customer corp tag writes is another app's tag, not an agentid).
var apiHints = map[string]map[int]string{}

var hints = map[int]string{
	ErrCodeSystemBusy:          "WeCom is busy; the call is retried later.",
	ErrCodeDataVersionConflict: "Another caller changed the same data at the same time; the call is retried later.",
	ErrCodeInvalidSecret:       "The secret does not match the corp ID, was reset, or its app is disabled: copy the app's current Secret from the WeCom admin console into the connection's Secret.",
	ErrCodeInvalidCorpID:       "The corp ID is wrong: copy it from My Company → Company Info (我的企业 → 企业信息 → 企业ID) in the WeCom admin console.",
	ErrCodeSecretNotOfCorp:     "The secret is malformed or belongs to another corp: take the corp ID and the secret from the same corp.",
	ErrCodeMissingCorpID:       "The connection has no corp ID: set it.",
	ErrCodeMissingSecret:       "The connection's Secret has no secret value: set it.",
	ErrCodeInvalidAccessToken:  "WeCom rejected a freshly fetched access token: the secret may have been reset or the app disabled; check the connection's secret.",
	ErrCodeAccessTokenExpired:  "WeCom rejected a freshly fetched access token as expired: check the clock and the connection's secret.",
	ErrCodeNoAPIPermission:     "The app whose secret is used may not call this API: use the contacts-sync (通讯录同步) secret for departments and users, give the app the root department as visible range for app chats, and add it to Customer Contact → apps allowed to call the API (客户联系 → 可调用接口的应用) for contact ways.",
	ErrCodeUntrustedIP:         "WeCom refused the operator's IP: add the operator's egress IP to the app's trusted IPs (企业可信IP); the change takes about a minute.",
	ErrCodeAgentNotOwned:       "The agentid does not belong to the app whose secret is used: use that app's agentid, or that agent's secret.",
	ErrCodeInvalidAgentID:      "The agentid is invalid: use the AgentId shown on the app's page in the admin console.",
	ErrCodeFreqLimit:           "WeCom's rate limit was hit: the client backs off; if it persists, reconcile less often. Per-minute limits block for 60 s, per-hour limits for an hour.",
	ErrCodeConcurrencyLimit:    "Too many concurrent calls of this API for the corp; the call is retried later.",
	ErrCodeNoTargetPermission:  "The member, department or tag is outside the app's visible range: widen the app's visible range in the admin console.",
	ErrCodeAllRecipientsBad:    "All recipients are invalid or outside the app's visible range: check the userids, department and tag ids, and the app's visible range.",
	ErrCodeNoRecipients:        "The message has no recipients: set at least one of touser, toparty, totag.",
	ErrCodeTooManyParties:      "At most 100 departments per message: split the message.",
	ErrCodeTooManyTags:         "At most 100 tags per message: split the message.",
	ErrCodeInvalidListLength:   "Too many ids in one call (at most 1000 users per message, 200 per batch delete): split the call.",
	ErrCodeEmptyTextContent:    "The text content is empty: give the message some content.",
	ErrCodeContentTooLarge:     "The message is too large (text and markdown: 2048 bytes): shorten it.",
	ErrCodeNewsNotSafe:         "news messages cannot be sent with safe=1; use safe=0.",
	ErrCodeMsgIDExpired:        "Only messages sent within the last 24 hours can be recalled.",
	ErrCodeDeptNotFound:        "The department does not exist.",
	ErrCodeParentDeptNotFound:  "The parent department does not exist: create it first.",
	ErrCodeInvalidParentDeptID: "The parent department does not exist: create it first.",
	ErrCodeDeptHasMembers:      "The department still has members: move or delete them first.",
	ErrCodeDeptHasChildren:     "The department still has sub-departments: delete them first.",
	ErrCodeCannotDeleteRoot:    "The root department (id 1) cannot be deleted.",
	ErrCodeDeptExists:          "A department with this id, or with this name under the same parent, already exists.",
	ErrCodeDeptNameIllegal:     "Department names must not contain \\ : * ? \" < > |.",
	ErrCodeDeptNameLength:      "Department names are 1–32 characters.",
	ErrCodeDeptCycle:           "A department cannot be moved under itself or one of its descendants.",
	ErrCodeDeptTooDeep:         "Departments nest at most 15 levels deep.",
	ErrCodeUserIDExists:        "The userid is taken (userids are compared case-insensitively).",
	ErrCodeUserIDNotFound:      "The member does not exist.",
	ErrCodeMobileExists:        "Another member already has this mobile number.",
	ErrCodeEmailExists:         "Another member already has this email address.",
	ErrCodeMobileAndEmailEmpty: "Give the member a mobile number or an email address.",
	ErrCodeLeaderLenMismatch:   "is_leader_in_dept must have one entry per department.",
	ErrCodeCannotDeleteCreator: "The corp's creator cannot be deleted: transfer the creator role in the admin console first.",
	ErrCodeCannotChangeUserID:  "The userid can be changed only once, and only if WeCom generated it.",
	ErrCodeChatNotFound:        "The app chat does not exist.",
	ErrCodeChatIDNotExist:      "The app chat does not exist.",
	ErrCodeChatNotOwned:        "The chat was created by another app: only the creating app can manage or send to it.",
	ErrCodeChatIDExists:        "A chat with this chatid already exists.",
	ErrCodeChatMemberCount:     "An app chat needs 2–2000 members.",
	ErrCodeInvalidConfigID:     "The contact way does not exist (deleted, or created by another app).",
	ErrCodeUserNotActivated:    "The member has not activated WeCom yet: ask them to log in once.",
	ErrCodeUserNotVerified:     "The member has not completed real-name verification.",
	ErrCodeNoExternalContact:   "The member has no customer-contact permission: enable it for them in the admin console.",
	ErrCodeTooManyWayUsers:     "A contact way has at most 100 members, counting members of its departments.",
	ErrCodeOtherAppsCalendar:   "The calendar or schedule was created by another app: only the creating app can change it.",
	ErrCodeInvalidColor:        "Calendar colours are \"#RRGGBB\".",
	ErrCodeInvalidWebhook:      "The robot key is wrong or the robot was removed from its group: add a robot to the group again and update the key.",
	ErrCodeRobotDisabled:       "The group robot is disabled: enable it in the group settings.",
	ErrCodeRobotNotInGroup:     "The group robot is not in the group any more: add it again and update the key.",
}

// Hint says what a person should do about err, for status conditions and events. It never
// contains secrets. For codes without a specific hint it points at WeCom's errcode lookup.
func Hint(err error) string {
	if err == nil {
		return ""
	}
	if code, api, ok := apiCode(err); ok {
		if h, ok := apiHints[api][code]; ok {
			return h
		}
		if h, ok := hints[code]; ok {
			return h
		}
		return "See https://open.work.weixin.qq.com/devtool/query?e=" + strconv.Itoa(code) + " for errcode " + strconv.Itoa(code) + "."
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return "The operator's own rate limit for this corp and API is exhausted; the call is retried later."
	}
	var te *TransportError
	if errors.As(err, &te) {
		switch {
		case te.Network():
			return "Could not reach WeCom: check DNS, proxy and egress firewall rules for the base URL."
		case te.StatusCode >= 300 && te.StatusCode < 400:
			return "The base URL redirected; use https://qyapi.weixin.qq.com (redirects are not followed so the token cannot leak)."
		case te.StatusCode == http.StatusNotFound:
			return "Unknown endpoint: check the base URL (it is the part before /cgi-bin/)."
		case te.StatusCode >= 500:
			return "WeCom or a proxy in between failed; the call is retried later."
		}
		return "Unexpected HTTP status from the base URL: check that it points at WeCom."
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return "The base URL answered with something that is not a WeCom reply: check that it points at WeCom."
	}
	if errors.Is(err, ErrInvalidRequest) {
		return "The request is invalid: fix the object's spec."
	}
	return ""
}
