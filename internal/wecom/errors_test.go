package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func apiErr(code int, api string) error { return &APIError{Code: code, Message: "m", API: api} }

func TestIsNotFoundPerEndpoint(t *testing.T) {
	for _, tc := range []struct {
		code int
		api  string
		want bool
	}{
		{60003, "department/get", true},
		{60003, "department/update", true},
		{60003, "department/delete", true},
		{60123, "department/get", true},
		{60003, "user/create", false}, // one of the user's departments, not the user
		{60004, "department/create", false},
		{60111, "user/get", true},
		{60111, "user/update", true},
		{60111, "user/delete", true},
		{60111, "user/create", false}, // e.g. an unknown direct_leader
		{86003, "appchat/get", true},
		{86003, "appchat/send", true},
		{40050, "appchat/update", true},
		{41044, "externalcontact/get_contact_way", true},
		{41044, "externalcontact/del_contact_way", true},
		{41044, "externalcontact/add_contact_way", false},
		{90457, "oa/calendar/get", true},
		{90459, "oa/calendar/del", true},
		{90461, "oa/schedule/get", true},
		{90460, "oa/schedule/del", true},
		{90460, "oa/schedule/update", true},
		{90461, "oa/schedule/add", false},
		{60003, "", true}, // a fake's error without API matches any endpoint
		{40003, "", false},
		{ErrCodeSystemBusy, "user/get", false},
	} {
		if got := IsNotFound(apiErr(tc.code, tc.api)); got != tc.want {
			t.Errorf("IsNotFound(%d on %q) = %v, want %v", tc.code, tc.api, got, tc.want)
		}
	}
	if IsNotFound(nil) || IsNotFound(errors.New("x")) {
		t.Error("non-API errors are not not-found")
	}
}

func TestIsAlreadyExistsPerEndpoint(t *testing.T) {
	for _, tc := range []struct {
		code int
		api  string
		want bool
	}{
		{60008, "department/create", true},
		{60008, "department/update", false}, // a rename clashing with a sibling: a conflict, not "exists"
		{60102, "user/create", true},
		{60102, "user/update", false},
		{60104, "user/create", false}, // someone else's mobile: terminal
		{86215, "appchat/create", true},
		{86215, "", true},
	} {
		if got := IsAlreadyExists(apiErr(tc.code, tc.api)); got != tc.want {
			t.Errorf("IsAlreadyExists(%d on %q) = %v, want %v", tc.code, tc.api, got, tc.want)
		}
	}
}

func TestClassification(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("reconcile: %w", err) }
	type class struct{ retryable, rateLimited, credential, terminal bool }
	for _, tc := range []struct {
		name string
		err  error
		want class
	}{
		{"-1", apiErr(-1, "user/get"), class{retryable: true}},
		{"6000", apiErr(6000, "user/update"), class{retryable: true}},
		{"45009", apiErr(45009, "user/get"), class{retryable: true, rateLimited: true}},
		{"45033", apiErr(45033, "user/get"), class{retryable: true, rateLimited: true}},
		{"40001", apiErr(40001, "gettoken"), class{credential: true}},
		{"40013", apiErr(40013, "gettoken"), class{credential: true}},
		{"40091", apiErr(40091, "gettoken"), class{credential: true}},
		{"41004", apiErr(41004, "gettoken"), class{credential: true}},
		{"40014", apiErr(40014, "user/get"), class{credential: true}},
		{"42001", apiErr(42001, "user/get"), class{credential: true}},
		{"48002", apiErr(48002, "department/create"), class{credential: true}},
		{"60020", apiErr(60020, "user/get"), class{credential: true}},
		{"301002", apiErr(301002, "message/send"), class{credential: true}},
		{"93000", apiErr(93000, "webhook/send"), class{credential: true}},
		{"60003", apiErr(60003, "department/get"), class{terminal: true}},
		{"40003", apiErr(40003, "user/create"), class{terminal: true}},
		{"60011", apiErr(60011, "user/create"), class{terminal: true}},
		{"81013", apiErr(81013, "message/send"), class{terminal: true}},
		{"wrapped 45009", wrapped(apiErr(45009, "x")), class{retryable: true, rateLimited: true}},
		{"network", &TransportError{API: "x", Err: errors.New("reset")}, class{retryable: true}},
		{"HTTP 502", &TransportError{API: "x", StatusCode: 502}, class{retryable: true}},
		{"HTTP 429", &TransportError{API: "x", StatusCode: 429}, class{retryable: true, rateLimited: true}},
		{"HTTP 404", &TransportError{API: "x", StatusCode: 404}, class{terminal: true}},
		{"decode", &DecodeError{API: "x", Err: errors.New("bad")}, class{terminal: true}},
		{"client rate limit", &RateLimitError{API: "x"}, class{retryable: true, rateLimited: true}},
		{"invalid request", fmt.Errorf("%w: no body", ErrInvalidRequest), class{terminal: true}},
		{"canceled", context.Canceled, class{}},
		{"deadline", context.DeadlineExceeded, class{}},
		{"gave up on deadline", &CallError{API: "x", Attempts: 3, Err: apiErr(-1, "x"), Cause: context.DeadlineExceeded}, class{retryable: true}},
		{"nil", nil, class{}},
	} {
		got := class{IsRetryable(tc.err), IsRateLimited(tc.err), IsCredential(tc.err), IsTerminal(tc.err)}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestCallErrorKeepsChain(t *testing.T) {
	inner := apiErr(60008, "department/create")
	err := &CallError{API: "department/create", Attempts: 2, Ambiguous: true, Err: inner, Cause: context.DeadlineExceeded}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 60008 || !errors.Is(err, context.DeadlineExceeded) || !IsAlreadyExists(err) || !IsAmbiguous(err) {
		t.Fatalf("chain lost: %v", err)
	}
	s := err.Error()
	for _, want := range []string{"department/create", "60008", "2 attempts", "may have been applied"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q does not mention %q", s, want)
		}
	}
}

func TestAPIErrorString(t *testing.T) {
	s := apiErr(60020, "user/get").Error()
	if s != "wecom user/get: errcode 60020 (not allow to access from your ip): m" {
		t.Fatalf("%q", s)
	}
}

func TestHint(t *testing.T) {
	for code, mustMention := range map[int]string{
		40001:  "secret",
		40013:  "corp ID",
		60020:  "trusted IP",
		48002:  "contacts-sync",
		81013:  "recipients",
		301002: "agentid",
		93000:  "robot",
		86008:  "another app",
	} {
		if h := Hint(apiErr(code, "x")); !strings.Contains(h, mustMention) {
			t.Errorf("Hint(%d) = %q, want it to mention %q", code, h, mustMention)
		}
	}
	if h := Hint(apiErr(12345, "x")); !strings.Contains(h, "devtool/query?e=12345") {
		t.Errorf("unknown code hint %q", h)
	}
	for _, err := range []error{
		&TransportError{API: "x", Err: errors.New("dial")},
		&TransportError{API: "x", StatusCode: http.StatusMovedPermanently},
		&TransportError{API: "x", StatusCode: 404},
		&TransportError{API: "x", StatusCode: 503},
		&DecodeError{API: "x", Err: errors.New("bad")},
		&RateLimitError{API: "x"},
	} {
		if Hint(err) == "" {
			t.Errorf("no hint for %v", err)
		}
	}
	if Hint(nil) != "" || Hint(context.Canceled) != "" {
		t.Error("hint for a non-error")
	}
}

func TestMeaning(t *testing.T) {
	if m := Meaning(60020); m != "not allow to access from your ip" {
		t.Errorf("Meaning(60020) = %q", m)
	}
	if m := Meaning(40004); m != "不合法的媒体文件类型" {
		t.Errorf("Meaning(40004) = %q; want the embedded official title", m)
	}
	if m := Meaning(999999); m != "" {
		t.Errorf("Meaning(999999) = %q", m)
	}
	// Every code the helpers name has an English meaning.
	for _, codes := range [][]int{retryableCodes, rateLimitCodes, credentialCodes} {
		for _, c := range codes {
			if _, ok := meanings[c]; !ok {
				t.Errorf("no English meaning for %d", c)
			}
		}
	}
	for api, codes := range notFoundCodes {
		for _, c := range codes {
			if _, ok := meanings[c]; !ok {
				t.Errorf("no English meaning for %d (%s)", c, api)
			}
		}
	}
}

func TestInvalidRequestsAreNotSent(t *testing.T) {
	f := newFake(t)
	c := newTestClient(t, f)
	ctx := context.Background()
	for name, err := range map[string]error{
		"no body": func() error { _, err := c.SendMessage(ctx, Message{ToUser: []string{"a"}, AgentID: 1}); return err }(),
		"two bodies": func() error {
			_, err := c.SendMessage(ctx, Message{ToUser: []string{"a"}, Text: &Text{}, Markdown: &Markdown{}})
			return err
		}(),
		"no recipients": func() error { _, err := c.SendMessage(ctx, Message{Text: &Text{Content: "x"}}); return err }(),
		"chat no body":  c.SendAppChat(ctx, AppChatMessage{ChatID: "c"}),
		"chat no id":    c.SendAppChat(ctx, AppChatMessage{Text: &Text{Content: "x"}}),
	} {
		if !errors.Is(err, ErrInvalidRequest) || !IsTerminal(err) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	w, _ := NewWebhookClient(WebhookConfig{BaseURL: f.srv.URL})
	if err := w.Send(ctx, "", WebhookMessage{Text: &Text{Content: "x"}}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("empty key: %v", err)
	}
	if f.tokenCalls.Load() != 0 || len(f.requests) != 0 {
		t.Fatal("an invalid request reached the server")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no corp":      {Secret: "s"},
		"no secret":    {CorpID: "c"},
		"bad scheme":   {CorpID: "c", Secret: "s", BaseURL: "ftp://x"},
		"no host":      {CorpID: "c", Secret: "s", BaseURL: "https://"},
		"query in URL": {CorpID: "c", Secret: "s", BaseURL: "https://x/?access_token=t"},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v", name, err)
		} else if strings.Contains(err.Error(), "access_token=t") {
			t.Errorf("%s: error quotes the query: %v", name, err)
		}
	}
	c, err := New(Config{CorpID: "c", Secret: "s"})
	if err != nil || c.base.String() != DefaultBaseURL || c.tokens != DefaultTokenCache || c.limiters != DefaultLimiters {
		t.Fatalf("defaults: %v %v", c, err)
	}
}
