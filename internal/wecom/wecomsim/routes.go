package wecomsim

// buildRoutes is the table of simulated /cgi-bin/ endpoints. Anything not
// listed answers HTTP 404 with an empty body (§0).
func buildRoutes() map[string]*endpoint {
	get := func(name string, perm func(*appState) int, h func(*Sim, *call) reply) *endpoint {
		return &endpoint{name: name, perm: perm, handle: h}
	}
	post := func(name string, perm func(*appState) int, h func(*Sim, *call) reply) *endpoint {
		return &endpoint{name: name, post: true, perm: perm, handle: h}
	}
	write := func(e *endpoint) *endpoint { e.write = true; return e }

	eps := []*endpoint{
		{name: "gettoken", auth: authNone, handle: handleGetToken},

		// §2 departments: writes need the contacts-sync secret.
		write(post("department/create", permContactsWrite, handleDeptCreate)),
		write(post("department/update", permContactsWrite, handleDeptUpdate)),
		write(get("department/delete", permContactsWrite, handleDeptDelete)),
		get("department/list", nil, handleDeptList),
		get("department/simplelist", nil, handleDeptSimpleList),
		get("department/get", nil, handleDeptGet),

		// §3 users.
		write(post("user/create", permContactsWrite, handleUserCreate)),
		write(post("user/update", permContactsWrite, handleUserUpdate)),
		write(get("user/delete", permContactsWrite, handleUserDelete)),
		write(post("user/batchdelete", permContactsWrite, handleUserBatchDelete)),
		get("user/get", nil, handleUserGet),
		post("user/list_id", permContactsWrite, handleUserListID), // contacts-sync secret only
		get("user/simplelist", nil, handleUserSimpleList),
		get("user/list", nil, handleUserList),

		// §10 tags: any app may create one, which then belongs to it (tag.go).
		write(post("tag/create", nil, handleTagCreate)),
		write(post("tag/update", nil, handleTagUpdate)),
		write(get("tag/delete", nil, handleTagDelete)),
		get("tag/get", nil, handleTagGet),
		write(post("tag/addtagusers", nil, handleTagAddUsers)),
		write(post("tag/deltagusers", nil, handleTagDelUsers)),
		get("tag/list", nil, handleTagList),

		// §12 apps and menus: the calling app's own settings and menu (agent.go); another
		// agentid is 301002.
		get("agent/get", nil, handleAgentGet),
		get("agent/list", nil, handleAgentList),
		write(post("agent/set", nil, handleAgentSet)),
		write(post("menu/create", nil, handleMenuCreate)),
		get("menu/get", nil, handleMenuGet),
		write(get("menu/delete", nil, handleMenuDelete)),

		// §4 app group chats: self-built apps with root visibility.
		write(post("appchat/create", permAppChat, handleAppChatCreate)),
		write(post("appchat/update", permAppChat, handleAppChatUpdate)),
		get("appchat/get", permAppChat, handleAppChatGet),
		write(post("appchat/send", permAppChat, handleAppChatSend)),

		// §5 联系我.
		write(post("externalcontact/add_contact_way", permCustomerContact, handleAddContactWay)),
		post("externalcontact/get_contact_way", permCustomerContact, handleGetContactWay),
		write(post("externalcontact/update_contact_way", permCustomerContact, handleUpdateContactWay)),
		write(post("externalcontact/del_contact_way", permCustomerContact, handleDelContactWay)),
		post("externalcontact/list_contact_way", permCustomerContact, handleListContactWay),
		// §13 客户联系: the welcome message for a new customer (customer.go).
		write(post("externalcontact/send_welcome_msg", permCustomerContact, handleSendWelcomeMsg)),

		// Customer succession of members in service (issue 12, offboarding; transfer.go).
		get("externalcontact/list", permCustomerContact, handleExternalList),
		write(post("externalcontact/transfer_customer", permCustomerContact, handleTransferCustomer)),
		post("externalcontact/transfer_result", permCustomerContact, handleTransferResult),
		post("externalcontact/groupchat/list", permCustomerContact, handleGroupChatList),
		write(post("externalcontact/groupchat/onjob_transfer", permCustomerContact, handleGroupChatOnjobTransfer)),
		// §6 calendars and schedules (current generation).
		write(post("oa/calendar/add", permAgent, handleCalendarAdd)),
		write(post("oa/calendar/update", permAgent, handleCalendarUpdate)),
		post("oa/calendar/get", permAgent, handleCalendarGet),
		write(post("oa/calendar/del", permAgent, handleCalendarDel)),
		write(post("oa/schedule/add", permAgent, handleScheduleAdd)),
		write(post("oa/schedule/update", permAgent, handleScheduleUpdate)),
		post("oa/schedule/get", permAgent, handleScheduleGet),
		post("oa/schedule/get_by_calendar", permAgent, handleScheduleByCalendar),
		write(post("oa/schedule/del", permAgent, handleScheduleDel)),
		write(post("oa/schedule/add_attendees", permAgent, handleScheduleAddAttendees)),
		write(post("oa/schedule/del_attendees", permAgent, handleScheduleDelAttendees)),

		// §7 app messages: the agentid check (301002) does the permission
		// work; message sending is outside the base frequency limit (§9).
		{name: "message/send", post: true, write: true, noBaseLimit: true, handle: handleMessageSend},
		write(post("message/recall", nil, handleMessageRecall)),
		// §14 card updates: single-use response codes (cards.go).
		write(post("message/update_template_card", nil, handleUpdateTemplateCard)),

		// §11 customer corp tags (corptag.go) and group welcome templates (welcometemplate.go):
		// apps configured under 客户联系 → 可调用接口的应用.
		post("externalcontact/get_corp_tag_list", permCustomerContact, handleGetCorpTagList),
		write(post("externalcontact/add_corp_tag", permCustomerContact, handleAddCorpTag)),
		write(post("externalcontact/edit_corp_tag", permCustomerContact, handleEditCorpTag)),
		write(post("externalcontact/del_corp_tag", permCustomerContact, handleDelCorpTag)),
		write(post("externalcontact/group_welcome_template/add", permCustomerContact, handleAddGroupWelcomeTemplate)),
		write(post("externalcontact/group_welcome_template/edit", permCustomerContact, handleEditGroupWelcomeTemplate)),
		post("externalcontact/group_welcome_template/get", permCustomerContact, handleGetGroupWelcomeTemplate),
		write(post("externalcontact/group_welcome_template/del", permCustomerContact, handleDelGroupWelcomeTemplate)),

		// §8 group robot: the key is the credential.
		{name: "webhook/send", post: true, write: true, auth: authRobotKey, noBaseLimit: true, handle: handleWebhookSend},
	}
	routes := make(map[string]*endpoint, len(eps))
	for _, e := range eps {
		routes[e.name] = e
	}
	return routes
}

// Endpoints lists the simulated endpoint names ("department/create", …).
func (s *Sim) Endpoints() []string {
	out := make([]string, 0, len(s.routes))
	for name := range s.routes {
		out = append(out, name)
	}
	sortStrings(out)
	return out
}
