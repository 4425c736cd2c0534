// Package wecomsim is an in-memory simulator of the WeCom (企业微信) server
// API for a self-built app, written from the project's API reference
// (shared/reference/wecom-api.md) and not from any client. It serves over plain HTTP:
//
//   - /cgi-bin/… — the simulated API: gettoken; department/*; user/*;
//     tag/* (each tag owned by the app that created it, tag.go);
//     agent/get, agent/list, agent/set and menu/* (the calling app's own
//     settings and menu, agent.go); appchat/*;
//     externalcontact/*_contact_way and externalcontact/send_welcome_msg;
//     customer succession of members in service (externalcontact/list,
//     transfer_customer, transfer_result, groupchat/list and
//     groupchat/onjob_transfer; transfer.go);
//     externalcontact/*_corp_tag* (customer corp tags, owned by the app that
//     made them, corptag.go) and externalcontact/group_welcome_template/*
//     (welcometemplate.go);
//     oa/calendar/*; oa/schedule/*; message/send, message/recall and
//     message/update_template_card; webhook/send.
//     Errors are HTTP 200 {"errcode":N,"errmsg":"…"}; unknown paths are
//     HTTP 404 with an empty body; the access_token is only read from the
//     query string and is checked before any parameter.
//   - /sim/… — an admin API for tests and demos running the simulator as a
//     separate process (cmd/wecom-sim); see serveAdmin in admin.go for the
//     JSON shapes: /sim/state, /sim/calls, /sim/messages, /sim/faults,
//     /sim/seed, /sim/clock, /sim/activate, and for callbacks
//     /sim/callbacks (configure, list deliveries), /sim/edit (hand edits
//     in the admin console) and /sim/scan (a customer adds a contact way's
//     member); for interactive cards /sim/cards (each recipient's copy) and
//     /sim/card/click (a member clicks a button).
//
// Callbacks (§13): SetCallback saves an app's callback URL after WeCom's
// URL verification; hand edits (Console*, Edit) push change_contact to the
// contacts-sync callback, Scan pushes change_external_contact with a
// WelcomeCode to customer-contact apps, and ClickCard pushes
// template_card_event (FromUserName the clicking member, a fresh single-use
// ResponseCode) to the app that sent the card. Deliveries are encrypted with
// internal/wecom's WXBizMsgCrypt, run asynchronously in order per URL, are
// retried (1 + 3 attempts) and logged (Deliveries); Close stops them.
// API writes are never echoed to callbacks.
//
// Typical use in a Go test:
//
//	seed, creds := wecomsim.DemoSeed()
//	srv := wecomsim.NewServer(t, wecomsim.Options{Seed: &seed, Now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)})
//	client := myclient.New(srv.URL, creds.CorpID, creds.AppSecret) // base URL is configurable
//	…
//	srv.Advance(2 * time.Hour)                        // expire tokens
//	srv.SetFaults(wecomsim.Faults{Endpoints: []string{"user/create"}, LostReplyRate: 1})
//	n := srv.CallCount("gettoken")
//	inbox := srv.Inbox("lisi")
//	state := srv.State()
//	_ = srv.SetCallback(0, receiverURL, token, encodingAESKey) // contacts-sync callback
//	_, _ = srv.ConsoleUpdateUser(wecomsim.UserEdit{UserID: "lisi", Department: []int64{3}})
//	res, _ := srv.ClickCard(wecomsim.CardClick{TaskID: "alert-1", UserID: "lisi", Key: "ack"})
//	card, _ := srv.Card(wecomsim.DemoAgentID, "alert-1") // card.Member("lisi").ReplaceName …
//
// Interactive cards (cards.go): message/send records every card that can
// call back with its task_id, app, recipients and each recipient's copy
// (Cards, Card, Snapshot.Cards); response codes work once, for 72 h;
// message/update_template_card changes the targeted copies.
//
// Everything time-dependent (token expiry, quotas, rate windows, duplicate
// check, recall window, contact-way timestamps, welcome-code expiry, customer
// handovers,
// response-code expiry, a callback's CreateTime and timestamp) uses the
// simulator clock (SetNow/Advance), so tests never sleep. Only callback
// HTTP timeouts and retry spacing use real time (Options.CallbackTimeout
// and CallbackRetryInterval). Random choices (tokens, ids, chat owners,
// faults) come from math/rand seeded by Options.RandSeed.
//
// docs/wecom-simulator.md lists what is and is not simulated and every
// design choice made where the reference says "unconfirmed".
package wecomsim
