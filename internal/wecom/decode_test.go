package wecom

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeLenient(t *testing.T) {
	t.Run("numbers as strings, floats, null", func(t *testing.T) {
		var resp struct {
			Department Department `json:"department"`
		}
		body := `{"errcode":"0","errmsg":"ok","department":{"id":"2","name":"研发","parentid":1.0,"order":"10","department_leader":null,"name_en":null}}`
		if err := decodeResponse("department/get", []byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		want := Department{ID: 2, Name: "研发", ParentID: 1, Order: 10}
		if diff := diffValues(want, resp.Department); diff != "" {
			t.Fatal(diff)
		}
	})
	t.Run("user with numeric gender, string enable, empty lists as other shapes", func(t *testing.T) {
		var u User
		body := `{"errcode":0,"errmsg":"ok","userid":"zhangsan","name":"张三","gender":1,"enable":"1","status":"1","department":"","order":{},"is_leader_in_dept":null,"extattr":[],"main_department":"1"}`
		if err := decodeResponse("user/get", []byte(body), &u); err != nil {
			t.Fatal(err)
		}
		if u.Gender != "1" || !bool(u.Enable) || u.Status != 1 || u.Department != nil || u.ExtAttr != nil || u.MainDepartment != 1 {
			t.Fatalf("decoded %+v", u)
		}
	})
	t.Run("bools as 0/1 and strings", func(t *testing.T) {
		var resp struct {
			ContactWay ContactWay `json:"contact_way"`
		}
		body := `{"errcode":0,"errmsg":"ok","contact_way":{"config_id":"c","type":"1","scene":2,"skip_verify":1,"is_temp":"false","is_exclusive":"1","party":["2","3"]}}`
		if err := decodeResponse("externalcontact/get_contact_way", []byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		w := resp.ContactWay
		if w.Type != 1 || !w.SkipVerify || w.IsTemp || !w.IsExclusive || len(w.Party) != 2 || w.Party[1] != 3 {
			t.Fatalf("decoded %+v", w)
		}
	})
	t.Run("error body with empty lists in place of objects", func(t *testing.T) {
		var resp struct {
			Department Department `json:"department"`
		}
		body := `{"errcode":60003,"errmsg":"department not found, hint: [1730000000_1_abc], from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com/devtool/query?e=60003","department":[],"order":[]}`
		err := decodeResponse("department/get", []byte(body), &resp)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != 60003 || ae.API != "department/get" || !IsNotFound(err) {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("send result splits pipes", func(t *testing.T) {
		if got := splitPipe("a|b||c|"); len(got) != 3 || got[2] != "c" {
			t.Fatalf("%q", got)
		}
		if splitPipe("") != nil {
			t.Fatal("empty string must give nil")
		}
	})
	t.Run("unknown fields are ignored", func(t *testing.T) {
		var ac struct {
			ChatInfo AppChat `json:"chat_info"`
		}
		body := `{"errcode":0,"errmsg":"ok","chat_info":{"chatid":"c","future_field":{"x":[1,2]},"chat_type":"1"},"another":true}`
		if err := decodeResponse("appchat/get", []byte(body), &ac); err != nil || ac.ChatInfo.ChatType != 1 {
			t.Fatalf("%v %+v", err, ac)
		}
	})
}

func TestDecodeRejects(t *testing.T) {
	var d struct {
		Department Department `json:"department"`
	}
	for name, body := range map[string]string{
		"empty":            ``,
		"not JSON":         `<html>502 Bad Gateway</html>`,
		"array":            `[]`,
		"null":             `null`,
		"string":           `"ok"`,
		"no errcode":       `{"errmsg":"ok"}`,
		"errcode not int":  `{"errcode":"zero"}`,
		"truncated":        `{"errcode":0,"department":{"id":2`,
		"wrong shape":      `{"errcode":0,"department":"abc"}`,
		"non-numeric id":   `{"errcode":0,"department":{"id":"two"}}`,
		"fractional id":    `{"errcode":0,"department":{"id":2.5}}`,
		"overflowing uint": `{"errcode":0,"department":{"order":-1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			err := decodeResponse("department/get", []byte(body), &d)
			var de *DecodeError
			if !errors.As(err, &de) || IsRetryable(err) || !IsTerminal(err) {
				t.Fatalf("err = %#v; want a terminal *DecodeError", err)
			}
		})
	}
}

func TestDecodeErrorDoesNotQuoteBody(t *testing.T) {
	err := decodeResponse("gettoken", []byte(`{"errcode":0,"access_token":12345678901234567890123}`), &tokenResponse{})
	if err == nil {
		// A number decodes into a string field leniently; that is fine too.
		return
	}
	if s := err.Error(); len(s) > 200 {
		t.Fatalf("decode error too long (may quote the body): %s", s)
	}
}

// fuzzTargets are the reply types the client decodes into.
func fuzzTargets() []any {
	return []any{
		nil,
		&tokenResponse{},
		&struct {
			Department Department `json:"department"`
		}{},
		&struct {
			DepartmentID []DepartmentRef `json:"department_id"`
		}{},
		&User{},
		&UserIDPage{},
		&struct {
			ChatInfo AppChat `json:"chat_info"`
		}{},
		&struct {
			ContactWay ContactWay `json:"contact_way"`
		}{},
		&struct {
			CalendarList []Calendar `json:"calendar_list"`
		}{},
		&struct {
			ScheduleList []Schedule `json:"schedule_list"`
		}{},
		&struct {
			InvalidUser string `json:"invaliduser"`
			MsgID       string `json:"msgid"`
		}{},
	}
}

func FuzzDecodeResponse(f *testing.F) {
	for _, seed := range []string{
		`{"errcode":0,"errmsg":"ok","access_token":"accesstoken000001","expires_in":7200}`,
		`{"errcode":0,"errmsg":"ok","department":{"id":2,"name":"广州研发中心","name_en":"RDGZ","department_leader":["zhangsan"],"parentid":1,"order":10}}`,
		`{"errcode":0,"errmsg":"ok","department_id":[{"id":2,"parentid":1,"order":10}]}`,
		`{"errcode":41001,"errmsg":"access_token missing","department":[],"order":[],"is_leader_in_dept":[],"direct_leader":[]}`,
		`{"errcode":0,"errmsg":"ok","userid":"zhangsan","gender":1,"enable":"0","department":null}`,
		`{"errcode":0,"errmsg":"ok","next_cursor":"x","dept_user":[{"userid":"a","department":"1"}]}`,
		`{"errcode":0,"errmsg":"ok","chat_info":{"chatid":"C","userlist":["a","b"],"chat_type":"0"}}`,
		`{"errcode":0,"errmsg":"ok","contact_way":{"config_id":"c","skip_verify":1,"party":["2"]}}`,
		`{"errcode":0,"errmsg":"ok","schedule_list":[{"schedule_id":"s","reminders":{"timezone":-8,"repeat_type":"0"}}]}`,
		`{"errcode":0,"errmsg":"ok","invaliduser":"a|b","msgid":12}`,
		`{"errcode":"-1","errmsg":"system busy"}`,
		`{"errcode":1e2}`,
		`{"errcode":0,"department":{"id":[[[[[[[[[[1]]]]]]]]]]}}`,
		`[]`, `null`, ``, `{`, `<html>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range fuzzTargets() {
			err := decodeResponse("fuzz", body, target)
			if !json.Valid(body) && err == nil {
				t.Fatalf("invalid JSON %q decoded without error", body)
			}
			if err == nil {
				continue
			}
			var ae *APIError
			var de *DecodeError
			if !errors.As(err, &ae) && !errors.As(err, &de) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if ae != nil && ae.Code == 0 {
				t.Fatalf("APIError with code 0 for %q", body)
			}
		}
	})
}
