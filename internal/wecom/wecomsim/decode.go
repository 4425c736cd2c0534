package wecomsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// This file holds the lenient JSON field types required by reference §0a:
// numeric strings for ints, "" and null meaning "absent", gender as number
// or string, unknown fields ignored. Each type records whether the field was
// present so update endpoints can tell "not given" from "set to zero".
// Values that cannot be read at all produce an *apiError (40058 unless the
// type says otherwise), which decodeBody turns into an errcode reply.

// scalarInt reads a JSON literal as an integer. It accepts numbers
// (integral floats included), decimal strings and booleans (true=1).
// present is false for null and for "".
func scalarInt(b []byte) (v int64, present bool, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return 0, false, true
	}
	switch b[0] {
	case 't':
		return 1, true, string(b) == "true"
	case 'f':
		return 0, true, string(b) == "false"
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, true, false
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, false, true
		}
		n, ok := parseNumber(s)
		return n, true, ok
	case '{', '[':
		return 0, true, false
	}
	n, ok := parseNumber(string(b))
	return n, true, ok
}

// parseNumber parses a decimal integer, also accepting integral floats such
// as 1e3 or 5.0 (JSON has one number type).
func parseNumber(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return 0, false
	}
	return int64(f), true
}

// optInt is an integer field: number, decimal string, bool, "" or null.
type optInt struct {
	set bool
	v   int64
}

func (o *optInt) UnmarshalJSON(b []byte) error {
	v, present, ok := scalarInt(b)
	if !ok {
		return errCodef(codeInvalidParam, "not an integer: %.40s", b)
	}
	*o = optInt{set: present, v: v}
	return nil
}

// or returns the value, or def when the field was absent.
func (o optInt) or(def int64) int64 {
	if !o.set {
		return def
	}
	return o.v
}

// nonZero reports whether the field was given with a value other than 0;
// §0a: many clients send 0 for "use the default".
func (o optInt) nonZero() bool { return o.set && o.v != 0 }

// agentIDField is message/send's agentid: like optInt, but a value that is
// not a number is remembered so the handler can answer 40056 rather than
// 40058 (§0a: non-numeric agentid → 40056, unconfirmed).
type agentIDField struct {
	set bool
	bad bool
	v   int64
}

func (a *agentIDField) UnmarshalJSON(b []byte) error {
	v, present, ok := scalarInt(b)
	*a = agentIDField{set: present, bad: !ok, v: v}
	return nil
}

// optBool is a boolean field that also accepts 0/1 and their strings.
type optBool struct {
	set bool
	v   bool
}

func (o *optBool) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err == nil {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true":
				*o = optBool{set: true, v: true}
				return nil
			case "false":
				*o = optBool{set: true}
				return nil
			}
		}
	}
	v, present, ok := scalarInt(b)
	if !ok || v < 0 || v > 1 {
		return errCodef(codeInvalidParam, "not a boolean: %.40s", b)
	}
	*o = optBool{set: present, v: v == 1}
	return nil
}

func (o optBool) or(def bool) bool {
	if !o.set {
		return def
	}
	return o.v
}

// optString is a string field; null means absent. "" is present: handlers
// decide whether "" means "absent" for that field (§0a lists which).
type optString struct {
	set bool
	v   string
}

func (o *optString) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	if string(t) == "null" {
		*o = optString{}
		return nil
	}
	var s string
	if err := json.Unmarshal(t, &s); err != nil {
		return errCodef(codeInvalidParam, "not a string: %.40s", b)
	}
	*o = optString{set: true, v: s}
	return nil
}

// given reports a present, non-empty value (the "" = absent rule).
func (o optString) given() bool { return o.set && o.v != "" }

// strList is a []string field; null means absent.
type strList struct {
	set bool
	v   []string
}

func (l *strList) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	if string(t) == "null" {
		*l = strList{}
		return nil
	}
	var v []string
	if err := json.Unmarshal(t, &v); err != nil {
		return errCodef(codeInvalidParam, "not a string list: %.40s", b)
	}
	*l = strList{set: true, v: v}
	return nil
}

// intList is an []int field; null means absent. Elements may be numbers or
// decimal strings. A bare string where the list belongs gets stringCode
// (41019 for user.department per §3, unconfirmed; 40058 elsewhere).
type intList struct {
	set bool
	v   []int64
}

func decodeIntList(b []byte, stringCode int) (intList, error) {
	t := bytes.TrimSpace(b)
	if string(t) == "null" {
		return intList{}, nil
	}
	if len(t) > 0 && t[0] == '"' {
		return intList{}, errCodef(stringCode, "list given as a string")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(t, &raw); err != nil {
		return intList{}, errCodef(codeInvalidParam, "not a list: %.40s", b)
	}
	out := make([]int64, 0, len(raw))
	for _, r := range raw {
		v, present, ok := scalarInt(r)
		if !ok || !present {
			return intList{}, errCodef(codeInvalidParam, "bad list element: %.40s", r)
		}
		out = append(out, v)
	}
	return intList{set: true, v: out}, nil
}

func (l *intList) UnmarshalJSON(b []byte) error {
	v, err := decodeIntList(b, codeInvalidParam)
	*l = v
	return err
}

// deptList is user.department: a string instead of an array → 41019.
type deptList struct{ intList }

func (l *deptList) UnmarshalJSON(b []byte) error {
	v, err := decodeIntList(b, codeMissingDepartment)
	l.intList = v
	return err
}

// genderField accepts 0/1/2 as a number or a string (§0a); 0 and "" mean
// unset. Responses always carry the string form.
type genderField struct {
	set bool
	v   string
}

func (g *genderField) UnmarshalJSON(b []byte) error {
	v, present, ok := scalarInt(b)
	if !ok || v < 0 || v > 2 {
		return errCodef(codeInvalidParam, "invalid gender: %.40s", b)
	}
	if !present || v == 0 {
		*g = genderField{}
		return nil
	}
	*g = genderField{set: true, v: strconv.FormatInt(v, 10)}
	return nil
}

// idText is a pipe-joined recipient list (touser/toparty/totag). It is a
// string; a bare number is accepted for toparty/totag; "" and null are
// absent (§0a).
type idText struct {
	set bool
	v   string
}

func (p *idText) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	if string(t) == "null" {
		*p = idText{}
		return nil
	}
	if len(t) > 0 && t[0] != '"' {
		if n, ok := parseNumber(string(t)); ok {
			*p = idText{set: true, v: strconv.FormatInt(n, 10)}
			return nil
		}
		return errCodef(codeInvalidParam, "recipient list is not a string: %.40s", b)
	}
	var s string
	if err := json.Unmarshal(t, &s); err != nil {
		return errCodef(codeInvalidParam, "bad recipient list")
	}
	s = strings.TrimSpace(s)
	*p = idText{set: s != "", v: s}
	return nil
}

// splitPipe splits a pipe-joined list, dropping empty items.
func splitPipe(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, "|")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// maxBodyBytes bounds a request body. Webhook images may be 2 MB before
// base64 (≈2.7 MB after); anything larger is answered with 40058.
const maxBodyBytes = 8 << 20

// decodeBody parses a POST body into dst. An empty body gives 40063 (参数为空,
// as for a POST endpoint called with GET); anything that is not a JSON
// object, or has a field of the wrong shape, gives 40058 unless a lenient
// type picked a more specific code.
func decodeBody(body []byte, dst any) *apiError {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return errCodef(codeEmptyParam, "empty body")
	}
	if t[0] != '{' {
		return errCodef(codeInvalidParam, "body is not a JSON object")
	}
	if err := json.Unmarshal(t, dst); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return ae
		}
		return errCodef(codeInvalidParam, "bad JSON: %v", err)
	}
	return nil
}
