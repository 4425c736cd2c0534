package wecom

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Every credential the client handles travels in a URL query string (access_token,
// corpsecret, the robot's key; reference §0, §1, §8), and net/http puts the full URL into
// *url.Error messages. So the rule is: strip the query from every URL before it can be
// printed, scrub anything that still looks like a credential from free text, and scrub the
// exact values a request carried from whatever its reply or failure says.

// redactURL returns raw without its query, fragment and user info. If raw does not parse as
// an absolute URL, everything from the first '?' or '#' is cut.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i]
		}
		return raw
	}
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	u.User = nil
	return u.String()
}

// credentialInText finds a credential-named parameter and its value, whether written as a
// query parameter (access_token=X), a field (access_token: X) or JSON ("access_token":"X").
var credentialInText = regexp.MustCompile(`(?i)\b(access_token|corpsecret|secret|key)("?\s*[=:]\s*"?)[^&\s"'<>,;)\]]*`)

// redactText removes values of credential-named parameters from free text (error messages
// from below net/http, or an errmsg that echoes a request).
func redactText(s string) string {
	if !strings.ContainsAny(s, "=:") {
		return s
	}
	return credentialInText.ReplaceAllString(s, "${1}${2}REDACTED")
}

// credential holds a secret value so that no printer shows it: fmt and reflection-based
// dumpers print a func as its address. Values that hold credentials for longer than one
// call keep them this way, so that %#v of a Client or an error shows none.
type credential func() string

func newCredential(v string) credential { return func() string { return v } }

// scrubber holds the exact credential values of one request (its token, secret or robot
// key). The patterns of redactText only find a value next to its name; a reply may echo it
// in any shape ("token X expired", a quoted body), and only the value itself finds those.
type scrubber []credential

// scrub replaces every occurrence of a credential value in s, longest first so that a value
// containing another is replaced whole.
func (sc scrubber) scrub(s string) string {
	values := make([]string, 0, len(sc))
	for _, c := range sc {
		if v := c(); v != "" {
			values = append(values, v)
		}
	}
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	for _, v := range values {
		s = strings.ReplaceAll(s, v, "REDACTED")
	}
	return s
}

// with returns sc plus the credential values of query (access_token, corpsecret, key).
func (sc scrubber) with(query url.Values) scrubber {
	out := append(scrubber(nil), sc...)
	for _, name := range []string{"access_token", "corpsecret", "key"} {
		for _, v := range query[name] {
			out = append(out, newCredential(v))
		}
	}
	return out
}

// scrubError removes the credential values of sc from every text err carries. The errors
// keep their types: APIError's message is rewritten, DecodeError's cause is replaced by its
// scrubbed text (nobody matches on it), and TransportError scrubs when printed, because its
// cause stays a net/http error that callers inspect with errors.As.
func scrubError(err error, sc scrubber) error {
	if err == nil || len(sc) == 0 {
		return err
	}
	var ae *APIError
	if errors.As(err, &ae) {
		ae.Message = sc.scrub(ae.Message)
	}
	var de *DecodeError
	if errors.As(err, &de) && de.Err != nil {
		if msg := de.Err.Error(); sc.scrub(msg) != msg {
			de.Err = errors.New(sc.scrub(msg))
		}
	}
	var te *TransportError
	if errors.As(err, &te) {
		te.scrub = sc
	}
	return err
}

// redactError rewrites, in place, the URL of every *url.Error in err's chain, so that the
// error keeps its type (callers can still use errors.As / errors.Is and net.Error) but
// prints no query string.
func redactError(err error) error {
	for e := err; e != nil; {
		var ue *url.Error
		if !errors.As(e, &ue) {
			break
		}
		ue.URL = redactURL(ue.URL)
		e = ue.Err
	}
	return err
}
