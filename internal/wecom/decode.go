package wecom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Decoding is lenient because WeCom is (reference §0): error replies carry empty lists in the
// place of objects ("department":[] where success has an object), numbers sometimes arrive
// as strings ("created_at":"1380000000", gender "1" vs 1), and null stands for absent. The
// public types stay plain Go types; leniency lives here:
//
//  1. The envelope (errcode, errmsg) is read first. A non-zero errcode becomes *APIError and
//     the rest of the body is ignored.
//  2. The body is decoded strictly into the result type. That succeeds for well-formed replies.
//  3. Only if that fails, the body is decoded generically, coerced towards the result type
//     (number⇄string, 0/1⇄bool, ""/[]/{}/null → absent) and decoded strictly again. What still
//     does not fit is a *DecodeError.

// maxResponseBytes bounds a reply. The largest replies (user/list_id pages of 10,000 rows,
// department/list of a big corp) are a few MB.
const maxResponseBytes = 32 << 20

// decodeResponse reads a WeCom reply into out (a pointer, or nil to check errcode only).
func decodeResponse(api string, body []byte, out any) error {
	var env struct {
		ErrCode json.RawMessage `json:"errcode"`
		ErrMsg  json.RawMessage `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return &DecodeError{API: api, Err: errors.New(describeJSONError(err))}
	}
	if len(env.ErrCode) == 0 {
		return &DecodeError{API: api, Err: errors.New("no errcode in reply")}
	}
	code, ok := parseLenientInt(env.ErrCode)
	if !ok {
		return &DecodeError{API: api, Err: errors.New("errcode is not a number")}
	}
	if code != 0 {
		return &APIError{Code: int(code), Message: redactText(lenientString(env.ErrMsg)), API: api}
	}
	if out == nil {
		return nil
	}
	if err := decodeLenient(body, out); err != nil {
		return &DecodeError{API: api, Err: err}
	}
	return nil
}

// describeJSONError keeps JSON syntax errors short: they can quote the body.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "reply is not a JSON object"
	}
	return "invalid JSON"
}

func parseLenientInt(raw json.RawMessage) (int64, bool) {
	s := strings.TrimSpace(string(raw))
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), true
	}
	return 0, false
}

func lenientString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// decodeLenient decodes body into out, strictly if possible, else after coercion.
func decodeLenient(body []byte, out any) error {
	strictErr := json.Unmarshal(body, out)
	if strictErr == nil {
		return nil
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode target must be a non-nil pointer")
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return errors.New(describeJSONError(err))
	}
	fixed, err := json.Marshal(coerce(tree, rv.Type().Elem(), 0))
	if err != nil {
		return errors.New(describeJSONError(strictErr))
	}
	rv.Elem().SetZero() // drop whatever the strict attempt filled in
	if err := json.Unmarshal(fixed, out); err != nil {
		return fmt.Errorf("reply does not match the expected shape: %s", describeTypeError(err))
	}
	return nil
}

func describeTypeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q: got JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	return describeJSONError(err)
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
)

// maxCoerceDepth stops coercion of absurdly nested input; what is left is decoded as is.
const maxCoerceDepth = 64

// coerce rewrites a generic JSON value (from a Decoder with UseNumber) towards type t.
// Values it cannot make fit are returned unchanged for the strict decoder to reject.
func coerce(v any, t reflect.Type, depth int) any {
	if v == nil || depth > maxCoerceDepth {
		return v
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || reflect.PointerTo(t).Implements(unmarshalerType) {
		return v
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return coerceInt(v)
	case reflect.Float32, reflect.Float64:
		switch x := v.(type) {
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return json.Number("0")
			}
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				return json.Number(s)
			}
		case bool:
			return boolNumber(x)
		}
	case reflect.Bool:
		switch x := v.(type) {
		case json.Number:
			f, err := x.Float64()
			if err == nil {
				return f != 0
			}
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "1", "true":
				return true
			case "0", "false", "":
				return false
			}
		}
	case reflect.String:
		switch x := v.(type) {
		case json.Number:
			return string(x)
		case bool:
			return strconv.FormatBool(x)
		}
	case reflect.Slice, reflect.Array:
		switch x := v.(type) {
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = coerce(e, t.Elem(), depth+1)
			}
			return out
		case string:
			if strings.TrimSpace(x) == "" {
				return nil
			}
		case map[string]any:
			if len(x) == 0 {
				return nil
			}
		}
	case reflect.Map:
		switch x := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = coerce(e, t.Elem(), depth+1)
			}
			return out
		case []any:
			if len(x) == 0 {
				return nil
			}
		case string:
			if x == "" {
				return nil
			}
		}
	case reflect.Struct:
		switch x := v.(type) {
		case map[string]any:
			fields := jsonFields(t)
			out := make(map[string]any, len(x))
			for k, e := range x {
				ft, ok := fields[k]
				if !ok {
					ft, ok = fieldFold(fields, k)
				}
				if !ok {
					continue // unknown field: the decoder ignores it anyway
				}
				out[k] = coerce(e, ft, depth+1)
			}
			return out
		case []any:
			if len(x) == 0 {
				return nil
			}
		case string:
			if x == "" {
				return nil
			}
		}
	}
	return v
}

func coerceInt(v any) any {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
		if s == "" {
			return json.Number("0")
		}
	case bool:
		return boolNumber(x)
	default:
		return v
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return json.Number(s)
	}
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return json.Number(s)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return json.Number(strconv.FormatInt(int64(f), 10))
	}
	return v
}

func boolNumber(b bool) json.Number {
	if b {
		return "1"
	}
	return "0"
}

var jsonFieldsCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the JSON names of t's fields (embedded structs flattened, as encoding/json
// does) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := jsonFieldsCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, dup := m[k]; !dup {
						m[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	jsonFieldsCache.Store(t, m)
	return m
}

func fieldFold(fields map[string]reflect.Type, k string) (reflect.Type, bool) {
	for name, t := range fields {
		if strings.EqualFold(name, k) {
			return t, true
		}
	}
	return nil, false
}
