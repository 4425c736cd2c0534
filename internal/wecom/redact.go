package wecom

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// Every credential the client handles travels in a URL query string (access_token,
// corpsecret, the robot's key; reference §0, §1, §8), and net/http puts the full URL into
// *url.Error messages. So the rule is: strip the query from every URL before it can be
// printed, and scrub anything that still looks like a credential from free text.

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

var credentialInText = regexp.MustCompile(`(?i)\b(access_token|corpsecret|secret|key)=[^&\s"'<>]*`)

// redactText removes values of credential-named query parameters from free text (error
// messages from below net/http, or an errmsg that echoes a request).
func redactText(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	return credentialInText.ReplaceAllString(s, "${1}=REDACTED")
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
