// Package wecomsim is an in-memory simulator of the WeCom (企业微信) server
// API for a self-built app, written from the project's API reference
// (shared/reference/wecom-api.md) and not from any client. It serves over plain HTTP:
//
//   - /cgi-bin/… — the simulated API: gettoken; department/*; user/*;
//     appchat/*; externalcontact/*_contact_way; oa/calendar/*;
//     oa/schedule/*; message/send and message/recall; webhook/send.
//     Errors are HTTP 200 {"errcode":N,"errmsg":"…"}; unknown paths are
//     HTTP 404 with an empty body; the access_token is only read from the
//     query string and is checked before any parameter.
//   - /sim/… — an admin API for tests and demos running the simulator as a
//     separate process (cmd/wecom-sim); see serveAdmin in admin.go for the
//     JSON shapes.
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
//
// Everything time-dependent (token expiry, quotas, rate windows, duplicate
// check, recall window, contact-way timestamps) uses the simulator clock
// (SetNow/Advance), so tests never sleep. Random choices (tokens, ids,
// chat owners, faults) come from math/rand seeded by Options.RandSeed.
//
// docs/wecom-simulator.md lists what is and is not simulated and every
// design choice made where the reference says "unconfirmed".
package wecomsim
