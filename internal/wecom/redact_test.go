package wecom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=SECRETTOKEN&userid=x": "https://qyapi.weixin.qq.com/cgi-bin/user/get",
		"https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=S3CRET":      "https://qyapi.weixin.qq.com/cgi-bin/gettoken",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ROBOTKEY#frag":             "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
		"https://user:pass@example.com/x?":                                               "https://example.com/x",
		"http://[::1]:namedport/x?access_token=SECRETTOKEN":                              "http://[::1]:namedport/x",
		"no url at all": "no url at all",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactText(t *testing.T) {
	in := `Get "https://h/cgi-bin/x?access_token=TOK123&id=2": EOF; corpsecret=S3C key=K3Y`
	got := redactText(in)
	for _, secret := range []string{"TOK123", "S3C", "K3Y"} {
		if strings.Contains(got, secret) {
			t.Fatalf("redactText left %q in %q", secret, got)
		}
	}
	if !strings.Contains(got, "id=2") {
		t.Fatalf("redactText removed a harmless parameter: %q", got)
	}
}

// assertClean fails if any of the secrets appears in s.
func assertClean(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Fatalf("%s contains a credential %q: %s", what, sec, s)
		}
	}
}

// everyPrint formats err in every way a caller might log it.
func everyPrint(err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v|%+v|%s|%q|%#v", err, err, err, err, err)
	for e := err; e != nil; e = errors.Unwrap(e) {
		b.WriteString("|" + e.Error())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		b.WriteString("|" + ue.URL + "|" + ue.Error())
	}
	b.WriteString("|" + Hint(err))
	return b.String()
}

func TestNoCredentialInTransportErrors(t *testing.T) {
	t.Run("API call whose connection drops", func(t *testing.T) {
		f := newFake(t)
		f.on("department/get", dropConnection)
		c := newTestClient(t, f)
		_, err := c.GetDepartment(context.Background(), 2)
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Fatalf("want the *url.Error kept in the chain, got %#v", err)
		}
		if ue.URL != f.srv.URL+"/cgi-bin/department/get" {
			t.Fatalf("url.Error.URL = %q, want the URL without query", ue.URL)
		}
		assertClean(t, "error", everyPrint(err), "tok-1", "access_token=", testSecret)
	})
	t.Run("gettoken whose connection drops", func(t *testing.T) {
		f := newFake(t)
		f.tokenReply = dropConnection
		c := newTestClient(t, f)
		err := c.CheckCredentials(context.Background())
		if err == nil {
			t.Fatal("want an error")
		}
		assertClean(t, "error", everyPrint(err), testSecret, "corpsecret=")
	})
	t.Run("gettoken on a closed port", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		_ = ln.Close()
		c, _ := New(Config{BaseURL: "http://" + addr, CorpID: testCorp, Secret: testSecret, Retry: RetryPolicy{MaxAttempts: 1},
			Tokens: NewTokenCache(TokenCacheOptions{}), Limiters: unlimited()})
		_, err := c.GetUser(context.Background(), "zhangsan")
		if err == nil {
			t.Fatal("want an error")
		}
		assertClean(t, "error", everyPrint(err), testSecret, "corpsecret=")
	})
	t.Run("webhook on a dropped connection", func(t *testing.T) {
		f := newFake(t)
		f.on("webhook/send", dropConnection)
		w, _ := NewWebhookClient(WebhookConfig{BaseURL: f.srv.URL, HTTPClient: f.srv.Client(), Retry: fastRetry, Limiters: unlimited()})
		const key = "ROBOT-KEY-0000-secret"
		err := w.Send(context.Background(), key, WebhookMessage{Text: &Text{Content: "hi"}})
		if err == nil {
			t.Fatal("want an error")
		}
		assertClean(t, "error", everyPrint(err), key, "key=")
	})
	t.Run("redirect is not followed", func(t *testing.T) {
		f := newFake(t)
		var leaked bool
		other := newFake(t)
		other.on("department/get", func(w http.ResponseWriter, r *http.Request) { leaked = true })
		f.on("department/get", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.srv.URL+r.URL.RequestURI(), http.StatusFound)
		})
		c := newTestClient(t, f)
		_, err := c.GetDepartment(context.Background(), 2)
		var te *TransportError
		if !errors.As(err, &te) || te.StatusCode != http.StatusFound || leaked {
			t.Fatalf("err = %v, leaked = %v; a redirect would carry the token elsewhere", err, leaked)
		}
		assertClean(t, "error", everyPrint(err), "tok-1")
	})
	t.Run("errmsg that echoes a credential", func(t *testing.T) {
		f := newFake(t)
		f.on("department/get", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, `{"errcode":40058,"errmsg":"bad request GET /cgi-bin/department/get?access_token=`+r.URL.Query().Get("access_token")+`"}`)
		})
		c := newTestClient(t, f)
		_, err := c.GetDepartment(context.Background(), 2)
		if Code(err) != ErrCodeInvalidParameter {
			t.Fatalf("err = %v", err)
		}
		assertClean(t, "error", everyPrint(err), "tok-1")
	})
}

func TestConfigDoesNotPrintSecret(t *testing.T) {
	cfg := Config{BaseURL: "https://qyapi.weixin.qq.com", CorpID: testCorp, Secret: testSecret}
	s := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg)
	assertClean(t, "Config", s, testSecret)
	if !strings.Contains(s, testCorp) {
		t.Fatalf("the corp ID is not secret and helps debugging: %s", s)
	}
	c, _ := New(cfg)
	assertClean(t, "Client", fmt.Sprintf("%v %+v", c, c), testSecret)
}

func TestMessageBodiesKeepHTML(t *testing.T) {
	for name, v := range map[string]any{
		"message": Message{ToUser: []string{"u"}, AgentID: 1, Markdown: &Markdown{Content: `<font color="info">ok</font> & <a href="x">y</a>`}},
		"appchat": AppChatMessage{ChatID: "c", Markdown: &Markdown{Content: `<font color="info">ok</font> & <a href="x">y</a>`}},
	} {
		b, err := encodeBody(epMessageSend, v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `<font color=\"info\">ok</font> & <a href=\"x\">y</a>`) {
			t.Errorf("%s: body %s escapes HTML; WeCom counts the escaped bytes against its limits", name, b)
		}
	}
}

func TestRedactTextFindsNamedCredentialsInAnyShape(t *testing.T) {
	for _, tc := range []struct{ in, leak, keep string }{
		{`bad request ?access_token=TOK123&id=2`, "TOK123", "id=2"},
		{`invalid credential, access_token: TOK123, hint: [x]`, "TOK123", "hint: [x]"},
		{`{"access_token":"TOK123","errcode":1}`, "TOK123", `"errcode":1`},
		{`corpsecret = S3C and more`, "S3C", "and more"},
		{`webhook key:K3Y (robot removed)`, "K3Y", "robot removed"},
		{`more info at https://open.work.weixin.qq.com/devtool/query?e=40014`, "", "query?e=40014"},
	} {
		got := redactText(tc.in)
		if tc.leak != "" && strings.Contains(got, tc.leak) {
			t.Errorf("redactText(%q) = %q, still shows %q", tc.in, got, tc.leak)
		}
		if !strings.Contains(got, tc.keep) {
			t.Errorf("redactText(%q) = %q, lost the harmless %q", tc.in, got, tc.keep)
		}
	}
}

// WeCom's errmsg may echo a credential without its parameter name; the client knows the
// exact values each request carried and removes them wherever they appear.
func TestErrorsScrubTheExactCredentialValues(t *testing.T) {
	const robotKey = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
	echo := func(code int, what string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			v := r.URL.Query().Get(what)
			writeJSON(w, fmt.Sprintf(`{"errcode":%d,"errmsg":"rejected %s (was it '%s'?), see log"}`, code, v, v))
		}
	}
	for _, tc := range []struct {
		name    string
		call    func(t *testing.T, f *fakeWeCom) error
		secrets []string
	}{
		{"an API call whose errmsg echoes the access token", func(t *testing.T, f *fakeWeCom) error {
			f.on("department/get", echo(ErrCodeInvalidParameter, "access_token"))
			_, err := newTestClient(t, f).GetDepartment(context.Background(), 2)
			return err
		}, []string{"tok-1"}},
		{"gettoken whose errmsg echoes the secret", func(t *testing.T, f *fakeWeCom) error {
			f.tokenReply = echo(ErrCodeInvalidSecret, "corpsecret")
			return newTestClient(t, f).CheckCredentials(context.Background())
		}, []string{testSecret}},
		{"a robot whose errmsg echoes its key", func(t *testing.T, f *fakeWeCom) error {
			f.on("webhook/send", echo(93000, "key"))
			w, _ := NewWebhookClient(WebhookConfig{BaseURL: f.srv.URL, HTTPClient: f.srv.Client(), Retry: fastRetry, Limiters: unlimited()})
			return w.Send(context.Background(), robotKey, WebhookMessage{Text: &Text{Content: "hi"}})
		}, []string{robotKey}},
		{"an errmsg that echoes the secret on another call", func(t *testing.T, f *fakeWeCom) error {
			f.on("user/get", func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, `{"errcode":40058,"errmsg":"app secret `+testSecret+` has no access"}`)
			})
			_, err := newTestClient(t, f).GetUser(context.Background(), "zhangsan")
			return err
		}, []string{testSecret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(t, newFake(t))
			if err == nil {
				t.Fatal("want an error")
			}
			assertClean(t, "error", everyPrint(err), tc.secrets...)
			if !strings.Contains(err.Error(), "REDACTED") {
				t.Fatalf("the errmsg should still say where the value was: %v", err)
			}
		})
	}
}

func TestScrubErrorKeepsTypes(t *testing.T) {
	const secret = "SECRET-VALUE-42"
	sc := scrubber{newCredential(secret)}
	for _, err := range []error{
		&APIError{Code: 40058, API: "x", Message: "saw " + secret},
		&DecodeError{API: "x", Err: errors.New("field holds " + secret)},
		&TransportError{API: "x", Err: errors.New("connection to " + secret + " reset")},
	} {
		got := scrubError(err, sc)
		if got != err {
			t.Fatalf("scrubError replaced %T; callers match on the type", err)
		}
		assertClean(t, fmt.Sprintf("%T", err), everyPrint(&CallError{API: "x", Attempts: 2, Err: got}), secret)
	}
}

func TestClientPrintsNoSecretHoweverFormatted(t *testing.T) {
	c, err := New(Config{BaseURL: "https://qyapi.weixin.qq.com", CorpID: testCorp, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	type exported struct{ C Client }
	type unexported struct{ c Client }
	type pointer struct{ c *Client }
	values := map[string]any{
		"pointer":                   c,
		"value":                     *c,
		"value in exported field":   exported{*c},
		"value in unexported field": unexported{*c},
		"pointer in a field":        pointer{c},
		"slice of values":           []Client{*c},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			s := fmt.Sprintf(verb, v)
			assertClean(t, name+" with "+verb, s, testSecret, fmt.Sprintf("%x", testSecret))
		}
	}
	if s := fmt.Sprintf("%+v", *c); !strings.Contains(s, testCorp) {
		t.Fatalf("the corp ID is not secret and helps debugging: %s", s)
	}
}
