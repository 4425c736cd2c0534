package wecomsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	fuzzOnce   sync.Once
	fuzzSim    *Sim
	fuzzTokens []string
	fuzzPaths  []string
)

// fuzzSetup builds one simulator for the whole fuzz run and fetches a
// token for each demo app in-process.
func fuzzSetup(t testing.TB) {
	fuzzOnce.Do(func() {
		seed, creds := DemoSeed()
		fuzzSim = New(Options{Seed: &seed, Now: testStart, TokenTTL: 1 << 40})
		for _, secret := range []string{creds.ContactsSecret, creds.AppSecret, creds.LimitedAppSecret} {
			rec := httptest.NewRecorder()
			fuzzSim.ServeHTTP(rec, httptest.NewRequest("GET", "/cgi-bin/gettoken?corpid="+creds.CorpID+"&corpsecret="+secret, nil))
			var m struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &m)
			fuzzTokens = append(fuzzTokens, m.AccessToken)
		}
		fuzzPaths = fuzzSim.Endpoints()
	})
	if fuzzTokens[0] == "" {
		t.Fatal("fuzz setup: no token")
	}
}

// FuzzRequestParsing sends random bodies and queries to random endpoints:
// the simulator must never panic and must always answer HTTP 200 with a
// JSON errcode, or HTTP 404 with an empty body for unknown paths.
func FuzzRequestParsing(f *testing.F) {
	seeds := []struct {
		ep    uint8
		query string
		body  string
	}{
		{0, "", `{"name":"a","parentid":1}`},
		{1, "id=1", ``},
		{2, "", `{"userid":"a","name":"b","mobile":"+86 13800000000","department":[1,"2"],"gender":"1"}`},
		{3, "", `{"touser":"lisi|@all","toparty":2,"totag":"1","msgtype":"text","agentid":"1000002","text":{"content":"x"}}`},
		{4, "", `{"msgtype":"template_card","template_card":{"card_type":"news_notice","card_action":{"type":"1"},"horizontal_content_list":[{"type":2}]}}`},
		{5, "", `{"type":"2","scene":1,"user":null,"party":["3"],"is_temp":"true","conclusions":[]}`},
		{6, "", `{"schedule":{"start_time":"1","end_time":2e9,"reminders":{"remind_time_diffs":[1.5],"timezone":"-13"}}}`},
		{7, "chatid=%zz", `{"chatid":"` + strings.Repeat("a", 40) + `","userlist":[1,2]}`},
		{8, "", `{"calendar":{"summary":"s","color":"#ZZZZZZ","shares":[{"userid":null}]},"cal_id_list":{}}`},
		{9, "", `[`},
		{10, "", `{"a":` + strings.Repeat("[", 200) + `}`},
		{11, "", "\x00\xff{"},
		{12, "key=" + DemoRobotKey, `{"msgtype":"image","image":{"base64":"!!","md5":1}}`},
		{200, "", `{}`},
		{255, "debug=1", `null`},
	}
	for _, s := range seeds {
		for tok := uint8(0); tok < 3; tok++ {
			f.Add(s.ep, tok, s.query, []byte(s.body))
		}
	}
	f.Fuzz(func(t *testing.T, ep, tok uint8, query string, body []byte) {
		fuzzSetup(t)
		path := "/cgi-bin/unknown/" + strings.Repeat("x", int(ep%4))
		known := int(ep) < len(fuzzPaths)*2 // half the byte range maps to real endpoints
		if known {
			path = "/cgi-bin/" + fuzzPaths[int(ep)%len(fuzzPaths)]
		}
		q := "access_token=" + url.QueryEscape(fuzzTokens[int(tok)%len(fuzzTokens)])
		if query != "" {
			q += "&" + query
		}
		method := http.MethodPost
		if ep%5 == 0 {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, "/", strings.NewReader(string(body)))
		req.URL = &url.URL{Path: path, RawQuery: q}
		rec := httptest.NewRecorder()
		fuzzSim.ServeHTTP(rec, req)
		fuzzSim.Advance(time.Second) // keep clear of per-minute limits

		if !known {
			if rec.Code != http.StatusNotFound || rec.Body.Len() != 0 {
				t.Fatalf("%s: unknown path answered %d %q", path, rec.Code, rec.Body.String())
			}
			return
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: HTTP %d", path, rec.Code)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: non-JSON reply %q", path, rec.Body.String())
		}
		var code int
		if err := json.Unmarshal(m["errcode"], &code); err != nil {
			t.Fatalf("%s: no numeric errcode in %q", path, rec.Body.String())
		}
		if code == codeSystemBusy {
			t.Fatalf("%s: handler failed (-1) for body %q: %s", path, body, rec.Body.String())
		}
	})
}
